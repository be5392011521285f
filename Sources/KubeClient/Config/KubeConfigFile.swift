import Foundation
import Yams

/// The kubeconfig file format (`clientcmd/api/v1 Config`), as written by kubectl.
///
/// Relative file paths in an entry are resolved against the directory of the file that
/// defined it, as kubectl does; ``origin`` remembers that file for error messages.
public struct KubeConfigFile: Codable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String?
    public var currentContext: String?
    public var clusters: [NamedCluster]?
    public var users: [NamedUser]?
    public var contexts: [NamedContext]?

    enum CodingKeys: String, CodingKey {
        case apiVersion, kind, clusters, users, contexts
        case currentContext = "current-context"
    }

    public init(currentContext: String? = nil, clusters: [NamedCluster] = [], users: [NamedUser] = [], contexts: [NamedContext] = []) {
        self.apiVersion = "v1"
        self.kind = "Config"
        self.currentContext = currentContext
        self.clusters = clusters
        self.users = users
        self.contexts = contexts
    }

    public struct NamedCluster: Codable, Sendable, Equatable {
        public var name: String
        public var cluster: Cluster
        /// The file this entry came from; not serialized.
        public var origin: String?
        enum CodingKeys: String, CodingKey { case name, cluster }
        public init(name: String, cluster: Cluster) {
            self.name = name
            self.cluster = cluster
        }
    }

    public struct Cluster: Codable, Sendable, Equatable {
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?
        public var proxyURL: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
            case proxyURL = "proxy-url"
        }

        public init(server: String, certificateAuthorityData: String? = nil, insecureSkipTLSVerify: Bool? = nil) {
            self.server = server
            self.certificateAuthorityData = certificateAuthorityData
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
        }
    }

    public struct NamedUser: Codable, Sendable, Equatable {
        public var name: String
        public var user: User
        public var origin: String?
        enum CodingKeys: String, CodingKey { case name, user }
        public init(name: String, user: User) {
            self.name = name
            self.user = user
        }
    }

    public struct User: Codable, Sendable, Equatable {
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var token: String?
        public var tokenFile: String?
        public var username: String?
        public var password: String?
        public var exec: ExecConfig?
        public var authProvider: JSONValue?

        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case token, tokenFile, username, password, exec
            case authProvider = "auth-provider"
        }

        public init(token: String? = nil, clientCertificateData: String? = nil, clientKeyData: String? = nil) {
            self.token = token
            self.clientCertificateData = clientCertificateData
            self.clientKeyData = clientKeyData
        }
    }

    /// An exec credential plugin (`client.authentication.k8s.io`).
    public struct ExecConfig: Codable, Sendable, Equatable {
        public var apiVersion: String?
        public var command: String
        public var args: [String]?
        public var env: [ExecEnvVar]?
        public var installHint: String?
        public var provideClusterInfo: Bool?
        public var interactiveMode: String?

        public init(apiVersion: String? = "client.authentication.k8s.io/v1", command: String, args: [String]? = nil, env: [ExecEnvVar]? = nil) {
            self.apiVersion = apiVersion
            self.command = command
            self.args = args
            self.env = env
        }
    }

    public struct ExecEnvVar: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct NamedContext: Codable, Sendable, Equatable {
        public var name: String
        public var context: Context
        enum CodingKeys: String, CodingKey { case name, context }
        public init(name: String, context: Context) {
            self.name = name
            self.context = context
        }
    }

    public struct Context: Codable, Sendable, Equatable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
        public init(cluster: String, user: String? = nil, namespace: String? = nil) {
            self.cluster = cluster
            self.user = user
            self.namespace = namespace
        }
    }

    /// Parses one kubeconfig file; relative paths inside it are made absolute against its directory.
    public static func load(path: String) throws(KubeClientError) -> KubeConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .invalidConfiguration("invalid kubeconfig \(path): cannot read the file (\(Self.describe(error)))")
        }
        return try parse(yaml: text, path: path)
    }

    /// Parses kubeconfig YAML; `path` names the source in errors and anchors relative paths.
    public static func parse(yaml text: String, path: String) throws(KubeClientError) -> KubeConfigFile {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return KubeConfigFile() }
        var file: KubeConfigFile
        do {
            // Composed with Yams' `basic` resolver: the fields are typed by the decoder, and the
            // default resolver's regular expressions would bring ICU in (see YAMLPlainScalar).
            guard let node = try Yams.compose(yaml: text, .basic) else { return KubeConfigFile() }
            file = try YAMLDecoder().decode(KubeConfigFile.self, from: node.taggingMergeKeys())
        } catch {
            throw .invalidConfiguration("invalid kubeconfig \(path): \(Self.describe(error))")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func absolute(_ p: String?) -> String? {
            guard let p, !p.isEmpty else { return p }
            if p.hasPrefix("/") { return p }
            if p.hasPrefix("~/") { return NSHomeDirectory() + p.dropFirst(1) }
            return dir + "/" + p
        }
        file.clusters = file.clusters?.map { entry in
            var entry = entry
            entry.origin = path
            entry.cluster.certificateAuthority = absolute(entry.cluster.certificateAuthority)
            return entry
        }
        file.users = file.users?.map { entry in
            var entry = entry
            entry.origin = path
            entry.user.clientCertificate = absolute(entry.user.clientCertificate)
            entry.user.clientKey = absolute(entry.user.clientKey)
            entry.user.tokenFile = absolute(entry.user.tokenFile)
            // kubectl resolves a command given as a relative path (one with a slash) against the file.
            if var exec = entry.user.exec, exec.command.contains("/"), !exec.command.hasPrefix("/") {
                exec.command = dir + "/" + exec.command
                entry.user.exec = exec
            }
            return entry
        }
        return file
    }

    /// Merges files in `KUBECONFIG` order: the first file to define a name or `current-context` wins.
    public static func merge(_ files: [KubeConfigFile]) -> KubeConfigFile {
        var merged = KubeConfigFile()
        var clusterNames = Set<String>(), userNames = Set<String>(), contextNames = Set<String>()
        for file in files {
            if merged.currentContext == nil || merged.currentContext == "", let cc = file.currentContext, !cc.isEmpty {
                merged.currentContext = cc
            }
            for c in file.clusters ?? [] where clusterNames.insert(c.name).inserted { merged.clusters?.append(c) }
            for u in file.users ?? [] where userNames.insert(u.name).inserted { merged.users?.append(u) }
            for c in file.contexts ?? [] where contextNames.insert(c.name).inserted { merged.contexts?.append(c) }
        }
        return merged
    }

    /// Serializes as kubeconfig YAML.
    public func yaml() throws -> String { try YAMLEncoder().encode(self) }

    static func describe(_ error: any Error) -> String {
        if let e = error as? DecodingError {
            switch e {
            case .keyNotFound(let key, let ctx):
                return "missing field \"\(key.stringValue)\" at \(path(ctx.codingPath))"
            case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
                return "wrong type at \(path(ctx.codingPath)): \(ctx.debugDescription)"
            case .dataCorrupted(let ctx):
                if let underlying = ctx.underlyingError { return describe(underlying) }
                return "\(ctx.debugDescription) at \(path(ctx.codingPath))"
            @unknown default:
                return "\(e)"
            }
        }
        if let e = error as? YamlError { return "YAML syntax error: \(String(describing: e).replacingOccurrences(of: "\n", with: " "))" }
        if let e = error as? CocoaError, let path = e.filePath { return "\(e.code == .fileReadNoSuchFile ? "no such file" : "unreadable") \(path)" }
        return "\(error)"
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        let s = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return s.isEmpty ? "top level" : String(s.drop { $0 == "." })
    }
}

extension Node {
    /// The node with each plain `<<` mapping key tagged as a merge key, which Yams' decoder then
    /// merges (`<<: *defaults`), as the default resolver's `merge` rule would have tagged it.
    func taggingMergeKeys() -> Node {
        switch self {
        case .mapping(let mapping):
            let pairs = mapping.map { pair -> (Node, Node) in
                var key = pair.key.taggingMergeKeys()
                // Keys' tags are already resolved (to `str`: composing hashes them), so the
                // plain style is what tells `<<` from a quoted "<<".
                if case .scalar(let scalar) = pair.key, scalar.style == .plain, scalar.string == "<<" {
                    key = Node("<<", Tag(.merge, .basic))
                }
                return (key, pair.value.taggingMergeKeys())
            }
            return Node(pairs, mapping.tag, mapping.style)
        case .sequence(let sequence):
            return Node(sequence.map { $0.taggingMergeKeys() }, sequence.tag, sequence.style)
        case .scalar, .alias:
            return self
        }
    }
}
