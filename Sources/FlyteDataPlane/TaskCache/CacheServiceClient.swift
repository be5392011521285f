import FlyteIDL
import Foundation
import KubeRuntime
import SwiftProtobuf

/// Calls Flyte's cache service (`flyteidl2.cacheservice.v2.CacheService`) over the Connect
/// protocol, as Flyte's executor does (`catalog/cache_service.Client`): every request is
/// scoped by the task's org, project and domain and names the entry by ``CacheKey``.
public struct CacheServiceClient: Sendable {
    public static let service = "/flyteidl2.cacheservice.v2.CacheService/"

    let connect: ConnectUnaryCall
    public let config: CacheServiceConfig
    let now: @Sendable () -> Date
    /// Until when calls are not made, after one that got no answer.
    private let outage = LockedBox<ContinuousClock.Instant?>(nil)

    public init(config: CacheServiceConfig, http: any HTTPFetching, now: @escaping @Sendable () -> Date = Date.init) throws {
        try config.validate()
        guard let base = config.url, !base.isEmpty else { throw CacheServiceError.invalidConfig("cache-service.url: not set") }
        connect = ConnectUnaryCall(base: base, timeoutSeconds: config.timeoutSeconds, tokenFile: config.tokenFile, http: http)
        self.config = config
        self.now = now
    }

    /// Where an entry lives: the cache service keeps each org, project and domain apart.
    public struct Scope: Sendable, Hashable {
        public var org: String
        public var project: String
        public var domain: String

        public init(org: String, project: String, domain: String) {
            self.org = org
            self.project = project
            self.domain = domain
        }

        /// The task's own.
        public init(task: Flyteidl2_Core_Identifier) {
            self.init(org: task.org, project: task.project, domain: task.domain)
        }

        var message: Flyteidl2_Cacheservice_V2_Identifier {
            var id = Flyteidl2_Cacheservice_V2_Identifier()
            id.org = org
            id.project = project
            id.domain = domain
            return id
        }
    }

    /// The entry for `key`, or nil when there is none or it is older than
    /// `max-cache-age-seconds`. An entry without its outputs or metadata is malformed (Flyte
    /// refuses it too).
    public func get(_ key: CacheKey, scope: Scope) async throws(CacheServiceError) -> Flyteidl2_Cacheservice_CachedOutput? {
        var request = Flyteidl2_Cacheservice_V2_GetCacheRequest()
        request.baseRequest.key = key.value
        request.identifier = scope.message
        let response: Flyteidl2_Cacheservice_GetCacheResponse
        do {
            response = try await call("Get", request, returning: Flyteidl2_Cacheservice_GetCacheResponse.self)
        } catch where error.isNotFound {
            return nil
        }
        guard response.hasOutput, response.output.output != nil, response.output.hasMetadata else {
            throw .malformed("the entry for \(key) has no outputs or no metadata")
        }
        if config.maxCacheAgeSeconds > 0 {
            guard response.output.metadata.hasLastUpdatedAt else { throw .malformed("the entry for \(key) has no last_updated_at") }
            let age = now().timeIntervalSince(response.output.metadata.lastUpdatedAt.date)
            if age > Double(config.maxCacheAgeSeconds) { return nil }
        }
        return response.output
    }

    /// Records `outputURI` as the outputs for `key`, with where they came from.
    public func put(_ key: CacheKey, scope: Scope, outputURI: String, metadata: Flyteidl2_Cacheservice_Metadata) async throws(CacheServiceError) {
        var request = Flyteidl2_Cacheservice_V2_PutCacheRequest()
        request.baseRequest.key = key.value
        request.baseRequest.output.outputUri = outputURI
        request.baseRequest.output.metadata = metadata
        request.baseRequest.overwrite.overwrite = false
        request.identifier = scope.message
        _ = try await call("Put", request, returning: Flyteidl2_Cacheservice_PutCacheResponse.self)
    }

    /// Takes or extends the reservation of `key` for `owner`, asking for
    /// `reservation-heartbeat-seconds`; returns the reservation's owner (`owner` when it is
    /// ours).
    public func reserve(_ key: CacheKey, scope: Scope, owner: String) async throws(CacheServiceError) -> String {
        var request = Flyteidl2_Cacheservice_V2_GetOrExtendReservationRequest()
        request.baseRequest.key = key.value
        request.baseRequest.ownerID = owner
        request.baseRequest.heartbeatInterval = Google_Protobuf_Duration(seconds: Int64(config.reservationHeartbeatSeconds))
        request.identifier = scope.message
        let response = try await call("GetOrExtendReservation", request, returning: Flyteidl2_Cacheservice_GetOrExtendReservationResponse.self)
        guard response.hasReservation, !response.reservation.ownerID.isEmpty else {
            throw .malformed("the reservation answer for \(key) names no owner")
        }
        return response.reservation.ownerID
    }

    /// Gives up `owner`'s reservation of `key`.
    public func release(_ key: CacheKey, scope: Scope, owner: String) async throws(CacheServiceError) {
        var request = Flyteidl2_Cacheservice_V2_ReleaseReservationRequest()
        request.baseRequest.key = key.value
        request.baseRequest.ownerID = owner
        request.identifier = scope.message
        _ = try await call("ReleaseReservation", request, returning: Flyteidl2_Cacheservice_ReleaseReservationResponse.self)
    }

    private func call<Response: SwiftProtobuf.Message>(_ method: String, _ request: some SwiftProtobuf.Message, returning: Response.Type) async throws(CacheServiceError) -> Response {
        if let until = outage.value, ContinuousClock.now < until {
            throw .transport("\(method) not called: the cache service gave no answer within the last \(config.outageCooldownSeconds) s (outage-cooldown-seconds)")
        }
        let result = await connect.call(Self.service + method, request, returning: Response.self)
        if case .failure(.transport) = result, config.outageCooldownSeconds > 0 {
            outage.withLock { $0 = ContinuousClock.now + .seconds(config.outageCooldownSeconds) }
        } else {
            outage.withLock { $0 = nil }
        }
        switch result {
        case .success(let response): return response
        case .failure(.transport(let text)): throw .transport(text)
        case .failure(.rpc(let status, let code, let message)): throw .rpc(httpStatus: status, code: code, message: message)
        }
    }
}
