import Foundation
import KubeClient
import NIOSSL
import Synchronization

/// An in-process Kubernetes API server on loopback, for tests and for trying the executor
/// without a cluster: the envtest of this project.
///
/// ```swift
/// let sandbox = try await KubeSandbox.start()
/// let client = try KubernetesClient(configuration: sandbox.clientConfiguration())
/// defer { Task { await sandbox.shutdown() } }
/// ```
///
/// It serves discovery, the core kinds the executor and kubectl use, Leases, Events and
/// CustomResourceDefinitions (with schema validation, pruning, status subresources and printer
/// columns), with kube-apiserver's semantics for resourceVersion, conflicts, finalizers,
/// selectors, paging, watches and patches. What it does not emulate answers 4xx or 501.
public final class KubeSandbox: Sendable {
    /// How to start a sandbox.
    public struct Options: Sendable {
        /// Serve HTTPS with a generated CA, client-certificate and token authentication. Defaults to true.
        public var tls = true
        /// Offer HTTP/2 over TLS (ALPN `h2`, then `http/1.1`), as kube-apiserver does. Defaults
        /// to false: HTTP/1.1 only. Plain HTTP is always HTTP/1.1.
        public var http2 = false
        /// 0 picks a free port below the kernel's ephemeral range (``ListenPort``), so that
        /// ``restart()`` can have it back.
        public var port = 0
        public var host = "127.0.0.1"
        /// Changes remembered for watches and paging; older versions get 410 Gone. Defaults to 10,000.
        public var historyCapacity = 10_000
        /// Per resource, the changes a watch may resume from, as kube-apiserver's watch cache
        /// keeps them: at least this many (kube-apiserver's `--default-watch-cache-size`, 100)...
        public var watchCacheMinimum = 100
        /// ...and every change younger than this (its `eventFreshDuration`, 75 s)...
        public var watchCacheFreshness: Duration = .seconds(75)
        /// ...but at most this many (its upper bound, 102,400). A watch from an older version
        /// ends with 410 Expired.
        public var watchCacheMaximum = 102_400
        /// Delete dependents whose owners are gone, as kube-controller-manager does. Defaults to true.
        public var garbageCollection = true
        /// How often watches that asked for bookmarks get one. Defaults to 60 seconds, as kube-apiserver.
        public var bookmarkInterval: Duration = .seconds(60)
        /// The bearer token accepted for user `sandbox`.
        public var token = "sandbox-token"
        /// Put 127.0.0.1 and ::1 in the serving certificate. Defaults to true; tests of
        /// `tls-server-name` turn it off so only the DNS name `localhost` can match.
        public var servingCertificateIPAddresses = true
        /// Largest request body. Defaults to 3 MiB, kube-apiserver's limit.
        public var maxRequestBodyBytes = 3 * 1024 * 1024

        /// Run a ``SimulatedKubelet`` that moves Pods through their phases. Defaults to false.
        public var kubelet = false

        /// Run these ``SimulatedOperators`` (Spark, KubeRay), after installing their CRDs.
        /// Defaults to none.
        public var operators: [SimulatedOperators.Kind] = []
        /// Install the operators' CRDs when the sandbox starts. Defaults to true; turn it off to
        /// install them later (the operators wait for them).
        public var installOperatorCRDs = true

        /// Whether requests are authorized. Defaults to ``Authorization/alwaysAllow``.
        public var authorization = Authorization.alwaysAllow

        /// Keep a record of every successful write: who, what, when (``KubeSandbox/auditRecords``).
        /// Defaults to false; it grows with every write.
        public var auditWrites = false

        public init() {}
    }

    /// How a generated client authenticates.
    public enum Authentication: Sendable {
        /// The admin's client certificate (`system:masters`).
        case clientCertificate
        /// The admin's static bearer token.
        case token
        /// A token from ``KubeSandbox/serviceAccountToken(namespace:name:)``.
        case bearerToken(String)
    }

    /// How requests are authorized.
    public enum Authorization: Sendable {
        /// Every authenticated request is allowed.
        case alwaysAllow
        /// Roles, ClusterRoles and their bindings are enforced, as kube-apiserver's RBAC
        /// authorizer enforces them; the admin (`system:masters`) is always allowed. Use
        /// ``KubeSandbox/serviceAccountToken(namespace:name:)`` to act as a ServiceAccount.
        case rbac
    }

    public let options: Options
    /// Inject failures and latency into served requests.
    public let faults: FaultInjector
    /// The CA that signs the serving and client certificates (`nil` over plain HTTP).
    public let certificateAuthority: CertificateAuthority?
    let store: ObjectStore
    let tlsContext: NIOSSLContext?
    let adminCertificate: CertificateAuthority.Issued?
    let tokens: TokenRegistry
    let audit: AuditLog?
    /// The admission webhooks creates pass through, and where their Services are routed.
    let webhooks = AdmissionWebhooks()
    private let state: Mutex<(server: HTTPServer?, port: Int, bookmarks: Task<Void, Never>?, kubelet: SimulatedKubelet?, operators: SimulatedOperators?)>

    private init(options: Options, store: ObjectStore, ca: CertificateAuthority?, tls: NIOSSLContext?, admin: CertificateAuthority.Issued?) {
        self.options = options
        self.store = store
        self.faults = FaultInjector()
        self.certificateAuthority = ca
        self.tlsContext = tls
        self.adminCertificate = admin
        self.tokens = TokenRegistry(admin: options.token)
        self.audit = options.auditWrites ? AuditLog() : nil
        self.state = Mutex((nil, options.port, nil, nil, nil))
    }

    /// Starts a sandbox and waits until it accepts connections.
    public static func start(_ options: Options = Options()) async throws -> KubeSandbox {
        let store = ObjectStore(historyCapacity: options.historyCapacity, watchCache: WatchCache.Settings(minimum: options.watchCacheMinimum, freshness: options.watchCacheFreshness, maximum: options.watchCacheMaximum), garbageCollection: options.garbageCollection)
        await store.bootstrap()
        var ca: CertificateAuthority?
        var context: NIOSSLContext?
        var admin: CertificateAuthority.Issued?
        if options.tls {
            let authority = try CertificateAuthority()
            let serving = try authority.issueServerCertificate(ipAddresses: options.servingCertificateIPAddresses)
            var config = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(serving.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serving.privateKeyPEM.utf8), format: .pem)))
            config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(authority.certificatePEM.utf8)))
            config.certificateVerification = .optionalVerification  // tokens and client certificates on one port
            config.applicationProtocols = options.http2 ? ["h2", "http/1.1"] : ["http/1.1"]
            context = try NIOSSLContext(configuration: config)
            admin = try authority.issueClientCertificate(commonName: "sandbox-admin")
            ca = authority
        }
        let sandbox = KubeSandbox(options: options, store: store, ca: ca, tls: context, admin: admin)
        try await sandbox.listen()
        sandbox.startBookmarks()
        if options.kubelet {
            let kubelet = try SimulatedKubelet.start(configuration: sandbox.clientConfiguration())
            sandbox.state.withLock { $0.kubelet = kubelet }
        }
        if !options.operators.isEmpty {
            if options.installOperatorCRDs {
                let client = try KubernetesClient(configuration: sandbox.clientConfiguration())
                do {
                    try await SimulatedOperators.installCRDs(options.operators, client: client)
                    try? await client.shutdown()
                } catch {
                    try? await client.shutdown()
                    await sandbox.shutdown()
                    throw error
                }
            }
            let operators = try SimulatedOperators.start(options.operators, configuration: sandbox.clientConfiguration())
            sandbox.state.withLock { $0.operators = operators }
        }
        return sandbox
    }

    private func listen() async throws {
        let api = APIServer(store: store, faults: faults, requiresAuthentication: options.tls, clock: { Date() }, authorization: options.authorization, tokens: tokens, audit: audit, webhooks: webhooks)
        let port = state.withLock { $0.port }
        var picked: HTTPServer?
        if port == 0 {
            for candidate in ListenPort.candidates() {
                picked = try? await HTTPServer.start(host: options.host, port: candidate, tls: tlsContext, http2: options.http2, api: api, tokens: tokens, maxBodyBytes: options.maxRequestBodyBytes)
                if picked != nil { break }
            }
        }
        let server: HTTPServer
        if let picked {
            server = picked
        } else {
            server = try await HTTPServer.start(host: options.host, port: port, tls: tlsContext, http2: options.http2, api: api, tokens: tokens, maxBodyBytes: options.maxRequestBodyBytes)
        }
        state.withLock {
            $0.server = server
            $0.port = server.port
        }
    }

    private func startBookmarks() {
        let store = self.store
        let interval = options.bookmarkInterval
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await store.sendBookmarks()
            }
        }
        state.withLock { $0.bookmarks = task }
    }

    /// Every successful write so far, in the order answered, when ``Options/auditWrites`` is on
    /// (empty otherwise).
    public var auditRecords: [AuditRecord] { audit?.all ?? [] }

    /// Sends calls for the Service `namespace/name` on `port` (as an admission webhook's
    /// `clientConfig.service` names it) to `toLoopbackPort` on 127.0.0.1, where the test runs
    /// the server behind it: the sandbox's stand-in for kube-proxy and the Service's endpoints.
    public func routeService(namespace: String, name: String, port: Int = 443, toLoopbackPort: Int) {
        webhooks.route(namespace: namespace, name: name, port: port, to: toLoopbackPort)
    }

    /// The port served.
    public var port: Int { state.withLock { $0.port } }

    /// TCP connections open to the server now (HTTP/2 carries many requests on one).
    public var openConnections: Int { state.withLock { $0.server?.connections.count ?? 0 } }

    /// The server's base URL.
    public var url: URL {
        URL(string: "\(options.tls ? "https" : "http")://\(options.host):\(port)") ?? URL(fileURLWithPath: "/")
    }

    /// A client configuration for this sandbox.
    public func clientConfiguration(authentication: Authentication = .clientCertificate) -> ClientConfiguration {
        var config = ClientConfiguration(server: url, source: "kube-sandbox")
        if options.tls, let ca = certificateAuthority {
            config.tls.caPEM = Array(ca.certificatePEM.utf8)
            switch authentication {
            case .clientCertificate:
                config.tls.clientCertificatePEM = adminCertificate.map { Array($0.certificatePEM.utf8) }
                config.tls.clientKeyPEM = adminCertificate.map { Array($0.privateKeyPEM.utf8) }
            case .token:
                config.credentials = .bearerToken(options.token)
            case .bearerToken(let token):
                config.credentials = .bearerToken(token)
            }
        }
        return config
    }

    /// A kubeconfig for this sandbox with everything embedded, usable by kubectl.
    public func kubeconfig(authentication: Authentication = .clientCertificate, contextName: String = "kube-sandbox") -> KubeConfigFile {
        var cluster = KubeConfigFile.Cluster(server: url.absoluteString)
        var user = KubeConfigFile.User()
        if options.tls, let ca = certificateAuthority {
            cluster.certificateAuthorityData = Data(ca.certificatePEM.utf8).base64EncodedString()
            switch authentication {
            case .clientCertificate:
                user.clientCertificateData = adminCertificate.map { Data($0.certificatePEM.utf8).base64EncodedString() }
                user.clientKeyData = adminCertificate.map { Data($0.privateKeyPEM.utf8).base64EncodedString() }
            case .token:
                user.token = options.token
            case .bearerToken(let token):
                user.token = token
            }
        }
        return KubeConfigFile(
            currentContext: contextName, clusters: [.init(name: contextName, cluster: cluster)],
            users: [.init(name: contextName, user: user)],
            contexts: [.init(name: contextName, context: .init(cluster: contextName, user: contextName, namespace: "default"))])
    }

    /// A bearer token that authenticates as the ServiceAccount `namespace/name`, as the token a
    /// Pod of that ServiceAccount mounts. (The ServiceAccount need not exist yet.)
    public func serviceAccountToken(namespace: String, name: String) -> String {
        tokens.issue(namespace: namespace, name: name)
    }

    /// Writes ``kubeconfig(authentication:contextName:)`` to `path` with mode 0600.
    public func writeKubeconfig(to path: String, authentication: Authentication = .clientCertificate) throws {
        let text = try kubeconfig(authentication: authentication).yaml()
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KubeClientError.invalidConfiguration("cannot write kubeconfig \(path)")
        }
    }

    // MARK: Fault injection

    /// Ends every open watch, as a dropped connection would; clients must resume.
    public func closeAllWatches() async { await store.closeAllWatches() }

    /// Forgets the change history, as an etcd compaction: resuming from older versions gets 410 Gone.
    public func compactHistory() async { await store.compact() }

    /// Switches owner-reference garbage collection.
    public func setGarbageCollection(_ enabled: Bool) async { await store.setGarbageCollection(enabled) }

    /// Sends a BOOKMARK to every watch that asked for them, now.
    public func sendBookmarks() async { await store.sendBookmarks() }

    /// The current resourceVersion of the store.
    public func currentResourceVersion() async -> String { String(await store.currentResourceVersion()) }

    /// How many times each object of `type` was created since the sandbox started, by
    /// `namespace/name` (a name deleted and made again counts twice).
    public func createCounts(_ type: ResourceType) async -> [String: Int] {
        await store.createCounts(of: type)
    }

    /// How many watches are open.
    public func openWatchCount() async -> Int { await store.openWatchCount }

    /// Stops serving and drops every connection; the stored state is kept for ``restart()``.
    public func stop() async {
        let server = state.withLock { s -> HTTPServer? in
            let server = s.server
            s.server = nil
            return server
        }
        await store.closeAllWatches()
        await server?.stop()
    }

    /// Serves again on the same port with the state kept by ``stop()``.
    public func restart() async throws {
        var lastError: (any Error)?
        for _ in 0..<50 {
            do {
                try await listen()
                return
            } catch {
                lastError = error  // the old socket may linger for a moment
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        if let lastError { throw lastError }
    }

    /// Stops serving for good.
    public func shutdown() async {
        let (bookmarks, kubelet, operators) = state.withLock { ($0.bookmarks, $0.kubelet, $0.operators) }
        bookmarks?.cancel()
        await operators?.stop()
        await kubelet?.stop()
        await stop()
    }
}
