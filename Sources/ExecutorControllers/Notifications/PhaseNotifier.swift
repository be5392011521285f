import FlyteDataPlane
import Foundation
import KubeRuntime
import Logging

/// Told of every phase change the executor records. Called on the reconcile path, so it must
/// not wait: queue and return.
public protocol PhaseChangeObserver: Sendable {
    func observe(_ change: PhaseChange)
}

/// Sends phase changes to the configured webhooks (``NotificationsConfig``), each with its
/// own filters, queue, lanes and retries (``WebhookDelivery``). A receiver that is slow or down
/// never delays a reconcile.
public final class WebhookNotifier: PhaseChangeObserver {
    let deliveries: [WebhookDelivery]

    init(deliveries: [WebhookDelivery]) {
        self.deliveries = deliveries
    }

    public func observe(_ change: PhaseChange) {
        for delivery in deliveries where delivery.config.selects(change) {
            delivery.offer(change)
        }
    }

    /// Events queued or in flight, over all webhooks.
    public var pending: Int { deliveries.reduce(0) { $0 + $1.pending } }

    /// The notifier of `config`'s webhooks, or nil when there are none. Its deliveries run as
    /// a manager stage that, on shutdown, keeps sending what is queued for most of the
    /// graceful timeout, then drops (and counts) the rest.
    /// - Parameter http: the transport for every webhook; by default one pool per webhook,
    ///   with its timeout and CA.
    public static func make(config: NotificationsConfig, cluster: String, manager: Manager, http: (any HTTPFetching)? = nil, logger: Logger) throws -> WebhookNotifier? {
        guard !config.webhooks.isEmpty else { return nil }
        try config.validate()
        var deliveries: [WebhookDelivery] = []
        var pools: [HTTPFetcher] = []
        for webhook in config.webhooks {
            let transport: any HTTPFetching
            if let http {
                transport = http
            } else {
                do {
                    let pool = try HTTPFetcher(timeout: .seconds(webhook.timeoutSeconds), caFile: webhook.caFile)
                    pools.append(pool)
                    transport = pool
                } catch {
                    throw ExecutorConfig.Invalid(path: "notifications.webhooks.\(webhook.name).caFile", problem: "\(error)")
                }
            }
            deliveries.append(WebhookDelivery(config: webhook, cluster: cluster, http: transport, metrics: manager.metrics, logger: logger))
            logger.info("phase changes go to a webhook", metadata: ["webhook": "\(webhook.name)", "url": "\(webhook.url)"])
        }
        let notifier = WebhookNotifier(deliveries: deliveries)
        let grace = manager.options.gracefulShutdownTimeout * 0.8
        let closePools = pools
        manager.add(name: "webhooks", leaderOnly: false) {
            await notifier.run(grace: grace)
            for pool in closePools { await pool.shutdown() }
        }
        return notifier
    }

    /// Delivers until cancelled, then drains for at most `grace`.
    func run(grace: Duration) async {
        // The lanes run outside this task's cancellation so that queued events still go out
        // once shutdown starts; the deadline ends them.
        let lanes = Task { [deliveries] in
            await withTaskGroup(of: Void.self) { group in
                for delivery in deliveries { group.addTask { await delivery.runLanes() } }
            }
        }
        await withTaskCancellationHandler {
            await lanes.value
        } onCancel: { [deliveries] in
            let deadline = ContinuousClock.now + grace
            for delivery in deliveries { delivery.close(deadline: deadline) }
            Task {
                try? await Task.sleep(until: deadline)
                for delivery in deliveries { delivery.abandonQueued() }
                lanes.cancel()
            }
        }
    }
}
