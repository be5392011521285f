import Foundation
import KubeClient
import KubeRuntime
import Logging
import NIOSSL
import Prometheus

/// The secrets webhook as a part of the manager, on every replica (the Service sends the API
/// server's calls to any ready one): it settles the certificates, serves
/// `POST /mutate--v1-pod` over HTTPS, then registers the MutatingWebhookConfiguration, and
/// `/readyz` waits for it. Flyte's executor runs the same webhook in its process.
public final class SecretsWebhook: Sendable {
    let config: SecretsWebhookConfig
    let namespace: String
    let mutator: PodSecretsMutator
    let client: KubernetesClient
    let logger: Logger
    let admissions: [String: Counter]
    /// How long an admission took, from the body read to the answer (the Embedded manager's
    /// Secret reads included): the time the API server waits on this webhook for each Pod.
    let latency: DurationHistogram
    let serving = LockedBox<Int?>(nil)

    /// The port the webhook listens on once serving (useful with `listenPort: 0` in tests).
    public var port: Int? { serving.value }

    init(config: SecretsWebhookConfig, globals: GlobalSecretsConfig, namespace: String, client: KubernetesClient, metrics: MetricsRegistry, logger: Logger) {
        self.config = config
        self.namespace = namespace
        self.client = client
        self.logger = logger
        var resolved = config
        if resolved.embedded.namespace.isEmpty { resolved.embedded.namespace = namespace }
        mutator = PodSecretsMutator.make(config: resolved, globals: globals, store: APISecretStore(client: client))
        admissions = Dictionary(uniqueKeysWithValues: ["mutated", "unchanged", "denied", "malformed"].map {
            ($0, metrics.counter("executor_webhook_admissions_total", [("result", $0)], help: "Pod admissions answered by the secrets webhook, by result"))
        })
        latency = metrics.histogram("executor_webhook_admission_duration_seconds", buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)],
                                    help: "Time the secrets webhook took to answer an admission, Secret reads included")
    }

    /// Adds the webhook to `manager` and its readiness to `/readyz`.
    @discardableResult
    public static func install(manager: Manager, config: ExecutorConfig, namespace: String, logger: Logger) -> SecretsWebhook {
        let webhook = SecretsWebhook(config: config.webhook, globals: config.secrets, namespace: namespace, client: manager.client, metrics: manager.metrics, logger: logger)
        manager.addReadinessCheck("secrets webhook is not serving yet") { webhook.serving.value != nil }
        manager.add(name: "secrets webhook", leaderOnly: false) { try await webhook.run() }
        return webhook
    }

    func run() async throws {
        let tls: @Sendable () throws -> NIOSSLContext
        let caPEM: String
        if config.certDir.isEmpty || config.localCert {
            let certificates = try await WebhookCertificates.ensure(in: namespace, name: config.secretName, service: config.serviceName, client: client, logger: logger)
            if config.localCert { try certificates.write(directory: config.certDir) }
            let context = try certificates.tlsContext()
            tls = { context }
            caPEM = certificates.caPEM
        } else {
            let files = CertificateFiles(directory: config.certDir)
            tls = { try files.context() }
            caPEM = try files.current().caPEM
        }
        let server = try await AdmissionServer.start(host: "0.0.0.0", port: config.listenPort, tls: tls, handle: { [self] body in await answer(body) }, logger: logger)
        do {
            if !config.disableCreateMutatingWebhookConfig {
                let configuration = MutatingWebhookRegistration.configuration(config, namespace: namespace, caPEM: caPEM)
                try await MutatingWebhookRegistration.apply(configuration, client: client, logger: logger)
            }
            serving.withLock { $0 = server.port }
            logger.info("webhook: serving", metadata: ["port": "\(server.port)", "path": "\(AdmissionServer.path)"])
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        } catch {
            await server.stop()
            throw error
        }
        serving.withLock { $0 = nil }
        await server.stop()
    }

    /// One review: its answer, or 400 for a body that is not one.
    func answer(_ body: [UInt8]) async -> (status: Int, body: [UInt8]) {
        let started = ContinuousClock.now
        defer { latency.record(ContinuousClock.now - started) }
        do {
            var result = "unchanged"
            let review = try await AdmissionReview.answer(body) { pod in
                let outcome = await mutator.mutate(pod)
                switch outcome {
                case .mutated: result = "mutated"
                case .unchanged: result = "unchanged"
                case .denied(let message):
                    result = "denied"
                    logger.warning("webhook: refused a Pod", metadata: ["pod": "\(pod.value(atPath: "metadata.namespace")?.stringValue ?? "")/\(pod.value(atPath: "metadata.name")?.stringValue ?? pod.value(atPath: "metadata.generateName")?.stringValue ?? "")", "reason": "\(message)"])
                }
                return outcome
            }
            admissions[result]?.increment()
            return (200, review.serialized())
        } catch {
            admissions["malformed"]?.increment()
            return (400, Array("\(error)\n".utf8))
        }
    }
}

/// Certificates from a directory that another program keeps current (cert-manager's mounted
/// Secret): read again for a new connection when a file has changed since the last read.
final class CertificateFiles: Sendable {
    let directory: String
    private let loaded = LockedBox<(stamp: [Date], certificates: WebhookCertificates, context: NIOSSLContext)?>(nil)

    init(directory: String) { self.directory = directory }

    private func stamp() -> [Date] {
        [WebhookCertificates.caKey, WebhookCertificates.certificateKey, WebhookCertificates.privateKeyKey].map { file in
            let path = (directory as NSString).appendingPathComponent(file)
            return ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
        }
    }

    func current() throws -> WebhookCertificates {
        try load().certificates
    }

    func context() throws -> NIOSSLContext {
        try load().context
    }

    private func load() throws -> (stamp: [Date], certificates: WebhookCertificates, context: NIOSSLContext) {
        let now = stamp()
        if let loaded = loaded.value, loaded.stamp == now { return loaded }
        let certificates = try WebhookCertificates.read(directory: directory)
        let fresh = (now, certificates, try certificates.tlsContext())
        loaded.withLock { $0 = fresh }
        return fresh
    }
}
