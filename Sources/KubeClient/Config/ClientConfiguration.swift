import Foundation
import NIOSSL

/// Everything the client needs to reach one API server as one user: the resolved form of a
/// kubeconfig context or of the in-cluster service account.
///
/// ```swift
/// let config = try ClientConfiguration.load(kubeconfig: nil, context: nil) // flag, KUBECONFIG, in-cluster, ~/.kube/config
/// let client = try KubernetesClient(configuration: config)
/// ```
public struct ClientConfiguration: Sendable {
    /// Base URL of the API server, for example `https://10.0.0.1:6443`.
    public var server: URL
    public var tls: TLSSettings
    public var credentials: Credentials
    /// The namespace of the context or service account; `default` when none is set.
    public var namespace: String
    /// Where this configuration came from, for messages (`kubeconfig /path context "x"` or `in-cluster`).
    public var source: String

    /// Per-request deadline until the response headers arrive. Defaults to 30 seconds, as kubectl's request timeout.
    public var requestTimeout: Duration = .seconds(30)
    /// Connection establishment deadline. Defaults to 10 seconds.
    public var connectTimeout: Duration = .seconds(10)
    /// Longest silence tolerated on an open response: of every call, and of watches opened with
    /// ``WatchSilence/transport`` (the default). Defaults to 330 seconds, longer than a 5-minute
    /// server-side watch timeout, so such a watch ends on the server's terms and only a dead
    /// connection reaches it. Informers' watches (``WatchSilence/caller``) are bounded by their own
    /// watchdog instead.
    public var readIdleTimeout: Duration = .seconds(330)
    /// Largest request body accepted for sending. Defaults to 3 MiB, kube-apiserver's own limit.
    public var maxRequestBodyBytes: Int = 3 * 1024 * 1024
    /// Largest response body read for non-watch calls. Defaults to 512 MiB, enough for a list of
    /// 100,000 small objects; page with `limit` beyond that.
    public var maxResponseBodyBytes: Int = 512 * 1024 * 1024
    /// Largest single watch event line. Defaults to 16 MiB (etcd's object limit is 1.5 MiB).
    public var maxWatchEventBytes: Int = 16 * 1024 * 1024
    /// Client-side rate limit; `nil` (the default) sends as fast as the server allows and relies on
    /// API Priority and Fairness and on 429 handling instead.
    public var rateLimit: RateLimit?
    /// Retries of 429 on every verb and of 5xx and connection failures on idempotent verbs.
    public var retry: RetryPolicy = RetryPolicy()
    /// The `User-Agent` header.
    public var userAgent: String = "executor/0.1"
    /// HTTP/2 when the server offers it over TLS (as kube-apiserver does, and client-go uses),
    /// else HTTP/1.1; or HTTP/1.1 always. Plain-HTTP servers get HTTP/1.1 either way.
    public var httpVersion: HTTPVersionPreference = .automatic

    /// Which HTTP version the client speaks.
    public enum HTTPVersionPreference: String, Sendable, CaseIterable {
        /// HTTP/2 when TLS negotiates it (ALPN `h2`): one connection, a stream per request.
        case automatic
        /// HTTP/1.1 keep-alive connections from a pool, one request at a time on each.
        case http1
    }

    public init(server: URL, tls: TLSSettings = TLSSettings(), credentials: Credentials = .none, namespace: String = "default", source: String = "explicit") {
        self.server = server
        self.tls = tls
        self.credentials = credentials
        self.namespace = namespace
        self.source = source
    }

    /// TLS settings for an `https` server.
    public struct TLSSettings: Sendable {
        /// PEM bundle of the certificate authorities to trust; `nil` trusts the system roots.
        public var caPEM: [UInt8]?
        public var insecureSkipVerify: Bool = false
        /// Name to verify the server certificate against (and send as SNI) instead of the URL's host.
        public var serverName: String?
        /// PEM client certificate chain and private key (RSA or EC), for certificate authentication.
        public var clientCertificatePEM: [UInt8]?
        public var clientKeyPEM: [UInt8]?

        public init(caPEM: [UInt8]? = nil, insecureSkipVerify: Bool = false, serverName: String? = nil, clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil) {
            self.caPEM = caPEM
            self.insecureSkipVerify = insecureSkipVerify
            self.serverName = serverName
            self.clientCertificatePEM = clientCertificatePEM
            self.clientKeyPEM = clientKeyPEM
        }
    }

    /// How requests authenticate.
    public enum Credentials: Sendable {
        case none
        case bearerToken(String)
        /// A token file re-read when it changes (projected service-account tokens rotate).
        case tokenFile(String)
        case basic(username: String, password: String)
        /// An exec plugin; the token or client certificate it returns is cached until it expires.
        case exec(KubeConfigFile.ExecConfig, cluster: KubeConfigFile.Cluster?)
    }

    /// A token bucket: `qps` sustained, `burst` at once.
    public struct RateLimit: Sendable, Equatable {
        public var qps: Double
        public var burst: Int
        public init(qps: Double, burst: Int) {
            self.qps = qps
            self.burst = burst
        }
    }

    /// Retry settings; the delay doubles from `initialBackoff` up to `maxBackoff`, with jitter.
    public struct RetryPolicy: Sendable, Equatable {
        /// Attempts in all, the first included. Defaults to 5.
        public var maxAttempts: Int = 5
        public var initialBackoff: Duration = .milliseconds(100)
        public var maxBackoff: Duration = .seconds(10)
        /// Cap on a server's `Retry-After`. Defaults to 60 seconds.
        public var maxRetryAfter: Duration = .seconds(60)
        public init() {}
        public init(maxAttempts: Int, initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(10)) {
            self.maxAttempts = maxAttempts
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
        }

        /// The delays between attempts of one request: doubling from `initialBackoff` to
        /// `maxBackoff`, each stretched by up to half of itself at random so clients that
        /// failed together do not retry together.
        public var backoff: Backoff {
            Backoff(initial: initialBackoff, maximum: maxBackoff, resetAfter: .seconds(3600), jitter: 0.5)
        }
    }
}

extension ClientConfiguration {
    /// Loads the configuration the way controller-runtime does: an explicit kubeconfig path,
    /// else the `KUBECONFIG` list, else the in-cluster service account, else `~/.kube/config`.
    public static func load(
        kubeconfig: String? = nil, context: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KubeClientError) -> ClientConfiguration {
        if let kubeconfig, !kubeconfig.isEmpty {
            return try fromKubeconfig(paths: [kubeconfig], context: context)
        }
        if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            return try fromKubeconfig(paths: paths, context: context, skipMissing: true)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(environment: environment)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = home + "/.kube/config"
        guard FileManager.default.fileExists(atPath: path) else {
            throw .invalidConfiguration("no Kubernetes configuration: pass --kubeconfig, set KUBECONFIG, run in a cluster, or create \(path)")
        }
        return try fromKubeconfig(paths: [path], context: context)
    }

    /// Resolves a context of the merged kubeconfig files.
    /// - Parameter skipMissing: ignore files that do not exist, as kubectl does for `KUBECONFIG` entries.
    public static func fromKubeconfig(paths: [String], context: String? = nil, skipMissing: Bool = false) throws(KubeClientError) -> ClientConfiguration {
        var files: [KubeConfigFile] = []
        for path in paths {
            if skipMissing && !FileManager.default.fileExists(atPath: path) { continue }
            files.append(try KubeConfigFile.load(path: path))
        }
        let label = paths.joined(separator: ":")
        if files.isEmpty { throw .invalidConfiguration("invalid kubeconfig \(label): none of these files exists") }
        return try resolve(KubeConfigFile.merge(files), context: context, label: label)
    }

    /// Resolves `context` (or the current context) of an already merged kubeconfig.
    public static func resolve(_ file: KubeConfigFile, context: String?, label: String) throws(KubeClientError) -> ClientConfiguration {
        func fail(_ why: String) -> KubeClientError { .invalidConfiguration("invalid kubeconfig \(label): \(why)") }
        let contextName: String
        if let context, !context.isEmpty {
            contextName = context
        } else if let current = file.currentContext, !current.isEmpty {
            contextName = current
        } else {
            throw fail("no current-context is set and no context was given")
        }
        guard let ctx = file.contexts?.first(where: { $0.name == contextName })?.context else {
            throw fail("context \"\(contextName)\" not found")
        }
        guard let namedCluster = file.clusters?.first(where: { $0.name == ctx.cluster }) else {
            throw fail("cluster \"\(ctx.cluster)\" of context \"\(contextName)\" not found")
        }
        let clusterLabel = "invalid kubeconfig \(namedCluster.origin ?? label): cluster \"\(namedCluster.name)\""
        let cluster = namedCluster.cluster
        guard let serverText = cluster.server, !serverText.isEmpty else {
            throw .invalidConfiguration("\(clusterLabel) has no server")
        }
        guard let server = URL(string: serverText), let scheme = server.scheme, ["http", "https"].contains(scheme), server.host != nil else {
            throw .invalidConfiguration("\(clusterLabel): server \"\(serverText)\" is not an http or https URL")
        }
        var tls = TLSSettings(insecureSkipVerify: cluster.insecureSkipTLSVerify ?? false, serverName: cluster.tlsServerName)
        if let data = cluster.certificateAuthorityData, !data.isEmpty {
            tls.caPEM = try decodeBase64(data, what: "certificate-authority-data", label: clusterLabel)
        } else if let file = cluster.certificateAuthority, !file.isEmpty {
            tls.caPEM = try readFile(file, what: "certificate-authority", label: clusterLabel)
        }
        if tls.insecureSkipVerify && tls.caPEM != nil {
            throw .invalidConfiguration("\(clusterLabel): certificate-authority and insecure-skip-tls-verify cannot both be set")
        }
        if let ca = tls.caPEM {
            do { _ = try NIOSSLCertificate.fromPEMBytes(ca) } catch {
                throw .invalidConfiguration("\(clusterLabel): the certificate authority is not a PEM certificate")
            }
        }

        var credentials = Credentials.none
        if let userName = ctx.user, !userName.isEmpty {
            guard let namedUser = file.users?.first(where: { $0.name == userName }) else {
                throw fail("user \"\(userName)\" of context \"\(contextName)\" not found")
            }
            let userLabel = "invalid kubeconfig \(namedUser.origin ?? label): user \"\(userName)\""
            let user = namedUser.user
            if let data = user.clientCertificateData, !data.isEmpty {
                tls.clientCertificatePEM = try decodeBase64(data, what: "client-certificate-data", label: userLabel)
            } else if let path = user.clientCertificate, !path.isEmpty {
                tls.clientCertificatePEM = try readFile(path, what: "client-certificate", label: userLabel)
            }
            if let data = user.clientKeyData, !data.isEmpty {
                tls.clientKeyPEM = try decodeBase64(data, what: "client-key-data", label: userLabel)
            } else if let path = user.clientKey, !path.isEmpty {
                tls.clientKeyPEM = try readFile(path, what: "client-key", label: userLabel)
            }
            switch (tls.clientCertificatePEM, tls.clientKeyPEM) {
            case (.some, nil): throw .invalidConfiguration("\(userLabel) has a client certificate but no client key")
            case (nil, .some): throw .invalidConfiguration("\(userLabel) has a client key but no client certificate")
            case (.some(let cert), .some(let key)):
                try TLSMaterial.validate(certificatePEM: cert, keyPEM: key, label: userLabel)
            default: break
            }
            var methods: [String] = []
            if let token = user.token, !token.isEmpty {
                methods.append("token")
                credentials = .bearerToken(token)
            } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
                methods.append("tokenFile")
                guard FileManager.default.isReadableFile(atPath: tokenFile) else {
                    throw .invalidConfiguration("\(userLabel): cannot read tokenFile \(tokenFile)")
                }
                credentials = .tokenFile(tokenFile)
            }
            if user.username != nil || user.password != nil {
                methods.append("basicAuth")
                guard let u = user.username, let p = user.password else {
                    throw .invalidConfiguration("\(userLabel): username and password must be set together")
                }
                credentials = .basic(username: u, password: p)
            }
            if let exec = user.exec {
                methods.append("exec")
                guard !exec.command.isEmpty else { throw .invalidConfiguration("\(userLabel): exec has no command") }
                let supported = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
                guard let v = exec.apiVersion, supported.contains(v) else {
                    throw .invalidConfiguration("\(userLabel): exec apiVersion \"\(exec.apiVersion ?? "")\" is not one of \(supported.joined(separator: ", "))")
                }
                credentials = .exec(exec, cluster: exec.provideClusterInfo == true ? cluster : nil)
            }
            if user.authProvider != nil {
                throw .invalidConfiguration("\(userLabel): auth-provider plugins were removed from Kubernetes; use an exec plugin")
            }
            if methods.count > 1 {
                throw .invalidConfiguration("\(userLabel) has more than one authentication method (\(methods.joined(separator: ", "))); only one is allowed")
            }
        }
        var config = ClientConfiguration(
            server: server, tls: tls, credentials: credentials,
            namespace: (ctx.namespace?.isEmpty == false ? ctx.namespace : nil) ?? "default",
            source: "kubeconfig \(label) context \"\(contextName)\"")
        if server.scheme == "http" { config.tls = TLSSettings() }
        return config
    }

    /// The configuration of a Pod's service account (`KUBERNETES_SERVICE_HOST`/`PORT`, the token,
    /// `ca.crt` and `namespace` under `serviceAccountDirectory`).
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeClientError) -> ClientConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw .invalidConfiguration("in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host  // IPv6
        guard let server = URL(string: "https://\(hostPart):\(port)") else {
            throw .invalidConfiguration("in-cluster configuration: invalid host \(host) or port \(port)")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw .invalidConfiguration("in-cluster configuration: cannot read the service account token \(tokenPath)")
        }
        let label = "in-cluster configuration"
        let ca = try readFile(serviceAccountDirectory + "/ca.crt", what: "ca.crt", label: label)
        let namespace = (try? String(contentsOfFile: serviceAccountDirectory + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return ClientConfiguration(
            server: server, tls: TLSSettings(caPEM: ca), credentials: .tokenFile(tokenPath),
            namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default", source: label)
    }

    static func decodeBase64(_ text: String, what: String, label: String) throws(KubeClientError) -> [UInt8] {
        let cleaned = text.filter { !$0.isWhitespace }
        guard let data = Data(base64Encoded: cleaned) else {
            throw .invalidConfiguration("\(label): \(what) is not valid base64")
        }
        return Array(data)
    }

    static func readFile(_ path: String, what: String, label: String) throws(KubeClientError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfiguration("\(label): cannot read \(what) \(path)")
        }
        return Array(data)
    }
}

/// Checks and converts PEM material for NIOSSL.
enum TLSMaterial {
    static func validate(certificatePEM: [UInt8], keyPEM: [UInt8], label: String) throws(KubeClientError) {
        do { _ = try NIOSSLCertificate.fromPEMBytes(certificatePEM) } catch {
            throw .invalidConfiguration("\(label): the client certificate is not a PEM certificate")
        }
        do { _ = try NIOSSLPrivateKey(bytes: keyPEM, format: .pem) } catch {
            throw .invalidConfiguration("\(label): the client key is not a PEM private key (RSA or EC)")
        }
    }
}
