import FlyteDataPlane
import Foundation
import KubeRuntime
import Logging

/// The executor's connections to Flyte's data plane, as the config names them: the sink for
/// ActionEvents (Flyte's events service, or the debug log), the error-document check
/// (a blob store, or none) and the task cache (Flyte's cache service, or none).
public struct DataPlane: Sendable {
    public var sink: any ActionEventSink
    public var errorDocuments: ErrorDocumentCheck?
    public var taskCache: TaskCache?
    /// The blob stores the config names (local files always, S3 with `storage.type: s3`); nil
    /// with `storage.type: none`.
    public var blobStore: (any BlobStore)?

    /// Builds both from `config` and registers their shutdown with `manager` (pending events
    /// fail, pools close). Throws, naming the key, when a setting cannot work (an unreadable
    /// CA file, a bad endpoint).
    public static func make(config: ExecutorConfig, manager: Manager, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) throws -> DataPlane {
        var closers: [@Sendable () async -> Void] = []
        var sink: any ActionEventSink = LoggingActionEventSink()
        if let url = config.events.url, !url.isEmpty {
            let http: HTTPFetcher
            do {
                http = try HTTPFetcher(timeout: .seconds(config.events.timeoutSeconds), caFile: config.events.caFile)
            } catch {
                throw EventsProxyError.invalidConfig("events.ca-file: \(config.events.caFile ?? ""): \(error)")
            }
            let client = try EventsProxyClient(config: config.events, http: http, metrics: manager.metrics, logger: logger)
            sink = client
            closers.append {
                await client.shutdown()
                await http.shutdown()
            }
            logger.info("ActionEvents go to the events service", metadata: ["url": "\(url)"])
        }
        var check: ErrorDocumentCheck?
        var storageHTTP: HTTPFetcher?
        let stores: BlobStores?
        do {
            stores = try BlobStores.make(config: config.storage, environment: environment, http: {
                let fetcher = try HTTPFetcher(timeout: .seconds(config.storage.s3.timeoutSeconds), caFile: config.storage.s3.caFile)
                storageHTTP = fetcher
                return fetcher
            }())
        } catch {
            throw ExecutorConfig.Invalid(path: "storage", problem: "\(error)")
        }
        if let stores {
            check = ErrorDocumentCheck(store: stores, maxBytes: config.storage.maxDocumentBytes)
        } else {
            logger.warning("storage.type is none: error documents are not read, so a task that writes error.pb and exits 0 counts as succeeded")
        }
        if let storageHTTP { closers.append { await storageHTTP.shutdown() } }
        var taskCache: TaskCache?
        if config.cacheService.enabled, let stores {
            let http: HTTPFetcher
            do {
                http = try HTTPFetcher(timeout: .seconds(config.cacheService.timeoutSeconds), caFile: config.cacheService.caFile)
            } catch {
                throw ExecutorConfig.Invalid(path: "cache-service", problem: "ca-file: \(config.cacheService.caFile ?? ""): \(error)")
            }
            taskCache = TaskCache(client: try CacheServiceClient(config: config.cacheService, http: http), store: stores, metrics: manager.metrics, logger: logger)
            closers.append { await http.shutdown() }
            logger.info("tasks marked cache=True use the cache service", metadata: ["url": "\(config.cacheService.url ?? "")"])
        }
        if !closers.isEmpty {
            let all = closers
            manager.add(name: "data plane", leaderOnly: false) {
                // Runs until the manager stops, then closes what it opened.
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                for close in all { await close() }
            }
        }
        return DataPlane(sink: sink, errorDocuments: check, taskCache: taskCache, blobStore: stores)
    }
}

extension EventsProxyClient: ActionEventSink {}
