import Foundation
import KubeClient
import Logging
import Prometheus

/// Settings of Lease-based leader election, with client-go's defaults.
public struct LeaderElectionConfig: Sendable {
    public var leaseName: String
    public var namespace: String
    /// Unique per process: the pod name plus a random suffix, as controller-runtime does.
    public var identity: String
    public var leaseDuration: Duration = .seconds(15)
    public var renewDeadline: Duration = .seconds(10)
    public var retryPeriod: Duration = .seconds(2)
    /// Give the lease up on a clean shutdown so the next leader starts at once.
    public var releaseOnCancel = true

    public init(leaseName: String, namespace: String, identity: String = LeaderElectionConfig.defaultIdentity()) {
        self.leaseName = leaseName
        self.namespace = namespace
        self.identity = identity
    }

    public static func defaultIdentity() -> String {
        let host = ProcessInfo.processInfo.environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
        return "\(host)_\(UUID().uuidString.lowercased())"
    }

    var leaseSeconds: Int32 { Int32(leaseDuration.components.seconds) }
}

/// The leader lost its lease: leader-only work must stop and the process exit non-zero, so
/// it restarts as a follower rather than run beside the new leader.
public struct LeaderElectionLost: Error, CustomStringConvertible {
    public var lease: String
    public var description: String { "lost the leader election lease \(lease)" }
}

/// Holds a `coordination.k8s.io/v1` Lease with the algorithm of client-go's `LeaderElector`:
/// acquire when the lease is free or its holder has not renewed for a lease duration (measured
/// on this process's monotonic clock from when it last saw the record change, so clock skew
/// between nodes does not matter), renew every retry period, and give up leadership when no
/// renewal succeeded within the renew deadline.
public final class LeaderElector: Sendable {
    public let config: LeaderElectionConfig
    let client: KubernetesClient
    let clock: any RuntimeClock
    let logger: Logger
    let gauge: Gauge?

    private struct State: Sendable {
        var observedSpec: LeaseSpec?
        var observedAt: Instant?
    }

    private let state = LockedBox(State())
    private let leading = Flag()

    public init(client: KubernetesClient, config: LeaderElectionConfig, clock: any RuntimeClock = SystemClock(), metrics: MetricsRegistry? = nil, logger: Logger = Logger(label: "leader-election")) {
        self.client = client
        self.config = config
        self.clock = clock
        var logger = logger
        logger[metadataKey: "lease"] = "\(config.namespace)/\(config.leaseName)"
        logger[metadataKey: "identity"] = "\(config.identity)"
        self.logger = logger
        self.gauge = metrics?.leaderElection(name: config.leaseName)
        gauge?.set(to: 0)
    }

    public var isLeader: Bool { leading.isSet }

    /// Waits until this process leads, or the task is cancelled.
    public func waitForLeadership() async {
        await leading.wait()
    }

    /// Acquires the lease, then renews it until the task is cancelled (releasing it) or a
    /// renewal misses the deadline (throwing ``LeaderElectionLost``).
    public func run() async throws {
        logger.info("attempting to acquire leader lease")
        // client-go's JitterUntil: the retry period stretched by up to 20 %, never growing.
        var retry = Backoff(initial: config.retryPeriod, maximum: config.retryPeriod, jitter: 0.2)
        while !isLeader {
            if await tryAcquireOrRenew() {
                becomeLeader()
                break
            }
            do { try await clock.sleep(for: retry.next(now: clock.now)) } catch { return }
        }
        logger.info("successfully acquired lease")
        var lastRenew = clock.now
        while true {
            do {
                try await clock.sleep(for: config.retryPeriod)
            } catch {
                await releaseUncancelled()
                return
            }
            if await tryAcquireOrRenew() {
                lastRenew = clock.now
                continue
            }
            if Task.isCancelled {
                await releaseUncancelled()
                return
            }
            if clock.now - lastRenew >= config.renewDeadline {
                leading.set(false)
                gauge?.set(to: 0)
                logger.error("failed to renew lease within the renew deadline; leadership lost")
                throw LeaderElectionLost(lease: "\(config.namespace)/\(config.leaseName)")
            }
        }
    }

    private func becomeLeader() {
        leading.set()
        gauge?.set(to: 1)
    }


    private func now() -> String { KubeTime.formatMicro(Date()) }

    /// One attempt of client-go's `tryAcquireOrRenew`; true when this process holds the lease.
    func tryAcquireOrRenew() async -> Bool {
        let lease: Lease
        do {
            lease = try await client.get(Lease.self, name: config.leaseName, namespace: config.namespace)
        } catch let error as KubeAPIError where error.isNotFound {
            let time = now()
            var fresh = Lease(metadata: ObjectMeta(name: config.leaseName, namespace: config.namespace))
            fresh.spec = LeaseSpec(holderIdentity: config.identity, leaseDurationSeconds: config.leaseSeconds, acquireTime: time, renewTime: time, leaseTransitions: 0)
            do {
                let created = try await client.create(fresh)
                observe(created.spec)
                return true
            } catch {
                logger.info("could not create lease", metadata: ["error": "\(error)"])
                return false
            }
        } catch {
            logger.info("could not read lease", metadata: ["error": "\(error)"])
            return false
        }
        let spec = lease.spec ?? LeaseSpec()
        let changed = state.withLock { $0.observedSpec != spec }
        if changed { observe(spec) }
        let holder = spec.holderIdentity ?? ""
        let iAmHolder = holder == config.identity
        if !holder.isEmpty && !iAmHolder {
            let duration = Duration.seconds(Int(spec.leaseDurationSeconds ?? config.leaseSeconds))
            let observedAt = state.withLock { $0.observedAt } ?? clock.now
            if observedAt.advanced(by: duration) > clock.now { return false }
        }
        var updated = lease
        var newSpec = spec
        let time = now()
        if !iAmHolder {
            newSpec.acquireTime = time
            newSpec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        newSpec.holderIdentity = config.identity
        newSpec.leaseDurationSeconds = config.leaseSeconds
        newSpec.renewTime = time
        updated.spec = newSpec
        do {
            // A PUT conditional on the resourceVersion read: two candidates cannot both win.
            let written = try await client.update(updated)
            observe(written.spec)
            return true
        } catch {
            logger.debug("lease update failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func observe(_ spec: LeaseSpec?) {
        let now = clock.now
        state.withLock { s in
            s.observedSpec = spec
            s.observedAt = now
        }
    }

    /// Releases from a task that is itself cancelled: the HTTP calls would be cancelled with it.
    private func releaseUncancelled() async {
        await Task { await self.release() }.value
    }

    /// Gives the lease up: empty holder, a one-second duration, so a follower takes over at once.
    func release() async {
        guard config.releaseOnCancel, isLeader else { return }
        leading.set(false)
        gauge?.set(to: 0)
        do {
            var lease = try await client.get(Lease.self, name: config.leaseName, namespace: config.namespace)
            guard lease.spec?.holderIdentity == config.identity else { return }
            let time = now()
            lease.spec?.holderIdentity = ""
            lease.spec?.leaseDurationSeconds = 1
            lease.spec?.renewTime = time
            lease.spec?.acquireTime = time
            _ = try await client.update(lease)
            logger.info("released leader lease")
        } catch {
            logger.info("could not release lease", metadata: ["error": "\(error)"])
        }
    }
}
