import Foundation
import NIOSSL

/// Produces the authentication of each request: a fixed token, a token file that is re-read
/// when it changes, basic auth, or an exec plugin's credential cached until it expires.
actor CredentialProvider {
    /// What a request carries: an `Authorization` header and, from an exec plugin, a client certificate.
    struct Resolved: Sendable {
        var authorization: String?
        var clientCertificatePEM: [UInt8]?
        var clientKeyPEM: [UInt8]?
        /// The TLS configuration presenting that certificate, made once when the plugin hands it
        /// out and cached with it, not for every request: building one (the PEM certificate and
        /// key parsed) and hashing it took about 20 µs (a P-256 key, docs/benchmarks.md).
        var tlsConfiguration: TLSConfiguration?
    }

    private let credentials: ClientConfiguration.Credentials
    /// The server's trust settings, for the TLS configuration of an exec plugin's certificate.
    private let tls: ClientConfiguration.TLSSettings
    private var fileToken: (token: String, identity: FileIdentity)?
    private var execCache: (resolved: Resolved, expires: Date?)?
    private let now: @Sendable () -> Date

    init(_ credentials: ClientConfiguration.Credentials, tls: ClientConfiguration.TLSSettings = .init(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.credentials = credentials
        self.tls = tls
        self.now = now
    }

    func resolve() async throws(KubeClientError) -> Resolved {
        switch credentials {
        case .none:
            return Resolved()
        case .bearerToken(let token):
            return Resolved(authorization: "Bearer \(token)")
        case .basic(let user, let password):
            return Resolved(authorization: "Basic \(Data("\(user):\(password)".utf8).base64EncodedString())")
        case .tokenFile(let path):
            return Resolved(authorization: "Bearer \(try readTokenFile(path))")
        case .exec(let exec, let cluster):
            if let cached = execCache, cached.expires.map({ $0 > now() }) ?? true {
                return cached.resolved
            }
            var (resolved, expires) = try await ExecCredentialRunner.run(exec, cluster: cluster)
            if let certificate = resolved.clientCertificatePEM, let key = resolved.clientKeyPEM {
                resolved.tlsConfiguration = try HTTPTransport.tlsConfiguration(tls, clientCertificatePEM: certificate, clientKeyPEM: key)
            }
            execCache = (resolved, expires)
            return resolved
        }
    }

    /// Forgets cached credentials after a 401, so the next request fetches fresh ones.
    func invalidate() {
        execCache = nil
        fileToken = nil
    }

    private func readTokenFile(_ path: String) throws(KubeClientError) -> String {
        // One stat(2) per request notices a rotated projected token at once, for about a
        // microsecond. Foundation's `attributesOfItem`, used before, cost about 13 µs a request
        // here: it fills a dictionary of every attribute and looks up the owner's user and
        // group names.
        let identity = FileIdentity(path)
        if let cached = fileToken, let identity, cached.identity == identity {
            return cached.token
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfiguration("cannot read token file \(path)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        fileToken = identity.map { (token, $0) }
        return token
    }
}

/// Runs a `client.authentication.k8s.io` exec plugin and decodes its ExecCredential.
enum ExecCredentialRunner {
    struct ExecCredential: Decodable {
        struct Status: Decodable {
            var token: String?
            var clientCertificateData: String?
            var clientKeyData: String?
            var expirationTimestamp: String?
        }
        var apiVersion: String?
        var kind: String?
        var status: Status?
    }

    static func run(_ exec: KubeConfigFile.ExecConfig, cluster: KubeConfigFile.Cluster?) async throws(KubeClientError)
        -> (CredentialProvider.Resolved, Date?)
    {
        let apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1"
        var spec: JSONValue = ["interactive": false]
        if let cluster {
            var c: JSONValue = ["server": .string(cluster.server ?? "")]
            if let ca = cluster.certificateAuthorityData { c["certificate-authority-data"] = .string(ca) }
            if let name = cluster.tlsServerName { c["tls-server-name"] = .string(name) }
            if cluster.insecureSkipTLSVerify == true { c["insecure-skip-tls-verify"] = true }
            spec["cluster"] = c
        }
        let info: JSONValue = ["apiVersion": .string(apiVersion), "kind": "ExecCredential", "spec": spec]
        var environment = ProcessInfo.processInfo.environment
        for variable in exec.env ?? [] { environment[variable.name] = variable.value }
        environment["KUBERNETES_EXEC_INFO"] = String(decoding: info.serialized(), as: UTF8.self)

        let output: (status: Int32, stdout: Data, stderr: Data)
        do {
            output = try await runProcess(command: exec.command, arguments: exec.args ?? [], environment: environment)
        } catch {
            let hint = exec.installHint.map { "\n\($0)" } ?? ""
            throw .credentialPlugin("cannot run \(exec.command): \(error)\(hint)")
        }
        guard output.status == 0 else {
            let stderr = String(decoding: output.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .credentialPlugin("\(exec.command) exited with status \(output.status): \(stderr)")
        }
        let credential: ExecCredential
        do {
            credential = try JSONBytesDecoder().decode(ExecCredential.self, from: output.stdout)
        } catch {
            throw .credentialPlugin("\(exec.command) printed no ExecCredential JSON: \(error)")
        }
        guard credential.kind == "ExecCredential", let status = credential.status else {
            throw .credentialPlugin("\(exec.command) printed an object that is not an ExecCredential with a status")
        }
        if let v = credential.apiVersion, v != apiVersion {
            throw .credentialPlugin("\(exec.command) answered apiVersion \(v), expected \(apiVersion)")
        }
        var resolved = CredentialProvider.Resolved()
        if let token = status.token, !token.isEmpty { resolved.authorization = "Bearer \(token)" }
        if let cert = status.clientCertificateData, let key = status.clientKeyData {
            resolved.clientCertificatePEM = Array(cert.utf8)
            resolved.clientKeyPEM = Array(key.utf8)
            try TLSMaterial.validate(certificatePEM: Array(cert.utf8), keyPEM: Array(key.utf8), label: "exec credential plugin \(exec.command)")
        }
        if resolved.authorization == nil && resolved.clientCertificatePEM == nil {
            throw .credentialPlugin("\(exec.command) returned neither a token nor a client certificate and key")
        }
        var expires: Date?
        if let text = status.expirationTimestamp {
            guard let date = KubeTime.parse(text) else {
                throw .credentialPlugin("\(exec.command) returned an invalid expirationTimestamp \(text)")
            }
            expires = date
        }
        return (resolved, expires)
    }

    static func runProcess(command: String, arguments: [String], environment: [String: String]) async throws
        -> (status: Int32, stdout: Data, stderr: Data)
    {
        // A bare name is looked up on PATH.
        let result = command.contains("/")
            ? try await ChildProcess.run(command, arguments, environment: environment)
            : try await ChildProcess.run("/usr/bin/env", [command] + arguments, environment: environment)
        return (result.status, result.stdout, result.stderr)
    }
}
