import ExecutorAPI
import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import Logging
import Prometheus
import SwiftProtobuf
import TaskPlugins

/// Flyte's task cache (spec §5.4 steps 3 and 5), for templates marked `discoverable`
/// (`cache=True`): before an attempt's child is made, the outputs of an earlier run with the
/// same task, interface, inputs and cache version are looked up in Flyte's cache service, and
/// on a hit copied to this attempt's `outputs.pb`, and the action succeeds without running;
/// after a success, the attempt's outputs are recorded for the next. A `cache_serializable`
/// task also holds a reservation while it runs, so that identical tasks wait for its outputs
/// instead of computing them again.
///
/// Differences from Flyte's executor, on purpose:
/// - the lookup is made once per launch (when no child of the attempt exists), not every
///   round until the child runs, which could end an attempt whose Pod already ran;
/// - `status.cacheStatus` says CACHE_MISS (or CACHE_LOOKUP_FAILURE) from the lookup until the
///   attempt ends, where Flyte's goes back to CACHE_DISABLED on the rounds in between.
public final class TaskCache: Sendable {
    let client: CacheServiceClient
    let store: any BlobStore
    let logger: Logger
    /// Each TaskAction's key, computed once (it reads the inputs), with the uid it was
    /// computed for: a TaskAction deleted and made again under its name is another.
    private let keys = LockedBox<[ObjectKey: (uid: String?, key: CacheKey)]>([:])

    /// `executor_task_cache_lookups_total{result}` (hit, miss, failure) and
    /// `executor_task_cache_writes_total{result}` (populated, failure).
    let lookups: [String: Counter]
    let writes: [String: Counter]

    public init(client: CacheServiceClient, store: any BlobStore, metrics: MetricsRegistry = MetricsRegistry(), logger: Logger) {
        self.client = client
        self.store = store
        self.logger = logger
        lookups = Dictionary(uniqueKeysWithValues: ["hit", "miss", "failure"].map {
            ($0, metrics.counter("executor_task_cache_lookups_total", [("result", $0)], help: "Cache lookups of cache=True tasks before a launch, by result"))
        })
        writes = Dictionary(uniqueKeysWithValues: ["populated", "failure"].map {
            ($0, metrics.counter("executor_task_cache_writes_total", [("result", $0)], help: "Outputs of succeeded cache=True tasks recorded in the cache service, by result"))
        })
    }

    var heartbeat: Duration { .seconds(client.config.reservationHeartbeatSeconds) }

    /// What the cache decided before the plugin runs.
    enum Before: Equatable {
        /// Run the plugin; record this cache status (nil: leave it), and whether this action
        /// holds the reservation (to be extended every heartbeat).
        case run(status: Flyteidl2_Core_CatalogCacheStatus?, reserved: Bool)
        /// The outputs were copied from the cache: the attempt succeeded.
        case hit
        /// Another action holds the reservation: wait for its outputs.
        case wait(owner: String)
    }

    /// The cache's say for this round. `launching` is true when the attempt has no child
    /// yet (the only time the cache is looked up). Throws only when a hit's outputs could not
    /// be copied (the round is retried, as Flyte requeues).
    func before(_ context: TaskExecutionContext, launching: Bool) async throws -> Before {
        let metadata = context.template.metadata
        // A running attempt of a task that is not serialized has nothing to ask the cache.
        guard metadata.discoverable, launching || metadata.cacheSerializable else { return .run(status: nil, reserved: false) }
        let key: CacheKey
        do {
            key = try await self.key(context)
        } catch {
            logger.warning("cache key not computed; running the task", metadata: ["taskaction": "\(Self.owner(context))", "error": "\(error)"])
            if launching { lookups["failure"]?.increment() }
            return .run(status: launching ? .cacheLookupFailure : nil, reserved: false)
        }
        let scope = CacheServiceClient.Scope(task: context.template.id)
        var status: Flyteidl2_Core_CatalogCacheStatus?
        if launching {
            do {
                if let entry = try await client.get(key, scope: scope) {
                    try await copy(entry, to: context)
                    lookups["hit"]?.increment()
                    return .hit
                }
                lookups["miss"]?.increment()
                status = .cacheMiss
            } catch let error as CacheServiceError {
                // Flyte's too: a lookup that fails is logged, and the task runs.
                logger.warning("cache lookup failed; running the task", metadata: ["taskaction": "\(Self.owner(context))", "error": "\(error)"])
                lookups["failure"]?.increment()
                status = .cacheLookupFailure
            }
        }
        guard metadata.cacheSerializable else { return .run(status: status, reserved: false) }
        let owner = Self.owner(context)
        do {
            let holder = try await client.reserve(key, scope: scope, owner: owner)
            return holder == owner ? .run(status: status, reserved: true) : .wait(owner: holder)
        } catch {
            // Flyte requeues without running; a cache service that is down would then stop
            // every serializable task. Running it costs at most a duplicate computation.
            logger.warning("cache reservation failed; running the task", metadata: ["taskaction": "\(Self.owner(context))", "error": "\(error)"])
            return .run(status: status, reserved: false)
        }
    }

    /// Records a successful attempt's outputs; the cache status to show (nil: not cached).
    /// Releases the reservation of a serializable task.
    func succeeded(_ context: TaskExecutionContext) async -> Flyteidl2_Core_CatalogCacheStatus? {
        guard context.template.metadata.discoverable, let key = try? await key(context) else { return nil }
        let scope = CacheServiceClient.Scope(task: context.template.id)
        let status: Flyteidl2_Core_CatalogCacheStatus
        do {
            guard try await store.exists(context.paths.outputsPath) else {
                throw CacheServiceError.malformed("the task wrote no \(context.paths.outputsPath)")
            }
            try await client.put(key, scope: scope, outputURI: context.paths.outputsPath, metadata: Self.metadata(context))
            status = .cachePopulated
        } catch let error as CacheServiceError where error.isAlreadyExists {
            status = .cachePopulated
        } catch {
            logger.warning("task outputs not written to the cache", metadata: ["taskaction": "\(Self.owner(context))", "error": "\(error)"])
            status = .cachePutFailure
        }
        writes[status == .cachePopulated ? "populated" : "failure"]?.increment()
        await release(context)
        return status
    }

    /// Gives up a serializable task's reservation (its attempt failed for good, or it is being
    /// deleted). Errors are only logged: the reservation expires on its own.
    func release(_ context: TaskExecutionContext) async {
        let metadata = context.template.metadata
        guard metadata.discoverable, metadata.cacheSerializable, let key = try? await key(context) else { return }
        do {
            try await client.release(key, scope: CacheServiceClient.Scope(task: context.template.id), owner: Self.owner(context))
        } catch {
            logger.warning("cache reservation not released", metadata: ["taskaction": "\(Self.owner(context))", "error": "\(error)"])
        }
    }

    /// Drops what is kept for a TaskAction that ended or is gone.
    func forget(_ key: ObjectKey) {
        keys.withLock { _ = $0.removeValueReleasingCapacity(forKey: key) }
    }

    func key(_ context: TaskExecutionContext) async throws -> CacheKey {
        let objectKey = ObjectKey(context.taskAction)
        let uid = context.taskAction.metadata.uid
        if let known = keys.withLock({ $0[objectKey] }), known.uid == uid { return known.key }
        let template = context.template
        guard template.hasID else { throw CacheServiceError.malformed("a discoverable task template has no id") }
        var inputs = Flyteidl2_Core_LiteralMap()
        if template.interface.hasInputs {
            guard let read = try await store.inputs(of: context, maxBytes: client.config.maxOutputBytes) else {
                throw CacheServiceError.malformed("the inputs \(context.paths.inputPath) do not exist")
            }
            inputs = read
        }
        let key = try CacheKey(task: template.id, interface: template.interface, inputs: inputs, ignoredInputs: template.metadata.cacheIgnoreInputVars, cacheVersion: context.taskAction.spec.cacheKey ?? "")
        keys.withLock { $0[objectKey] = (uid, key) }
        return key
    }

    /// Writes the entry's outputs as this attempt's `outputs.pb`: read from the entry's URI
    /// (checked to be a LiteralMap), or serialised from the literals it carries.
    func copy(_ entry: Flyteidl2_Cacheservice_CachedOutput, to context: TaskExecutionContext) async throws {
        let bytes: [UInt8]
        switch entry.output {
        case .outputLiterals(let literals):
            bytes = try literals.serializedBytes()
        case .outputUri(let uri):
            guard let read = try await store.read(uri, maxBytes: client.config.maxOutputBytes) else {
                throw CacheServiceError.malformed("the cached outputs \(uri) do not exist")
            }
            do {
                _ = try Flyteidl2_Core_LiteralMap(serializedBytes: read)
            } catch {
                // Not the outputs of any run: a lookup failure, and the task runs.
                throw CacheServiceError.malformed("the cached outputs \(uri) are not a flyteidl2.core.LiteralMap: \(error)")
            }
            bytes = read
        case nil:
            throw CacheServiceError.malformed("the entry has no outputs")
        }
        try await store.write(context.paths.outputsPath, bytes: bytes)
    }

    /// Where the outputs came from, as Flyte's executor records it: the task, and the run,
    /// action and attempt that made them.
    static func metadata(_ context: TaskExecutionContext) -> Flyteidl2_Cacheservice_Metadata {
        let spec = context.taskAction.spec
        var metadata = Flyteidl2_Cacheservice_Metadata()
        metadata.sourceIdentifier = context.template.id
        metadata.createdAt = Google_Protobuf_Timestamp(date: context.now)
        metadata.keyMap.values = [
            "task-version": context.template.id.version,
            "exec-project": spec.project,
            "exec-domain": spec.domain,
            "exec-name": spec.runName,
            "exec-node": spec.actionName,
            "exec-attempt": String(context.attempt - 1),
            "exec-org": "",
        ]
        return metadata
    }

    /// The reservation's owner: `<namespace>/<name>`, as Flyte's; also how logs name the
    /// TaskAction.
    static func owner(_ context: TaskExecutionContext) -> String {
        "\(context.namespace)/\(context.taskAction.metadata.name ?? "")"
    }
}
