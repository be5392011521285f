import FlyteDataPlane
import FlyteIDL
import Foundation
import KubeClient
import KubeRuntime
import SwiftProtobuf

/// Flyte's cache service as a test peer, over the Connect protocol on loopback: what
/// `cache_service/manager` does, in memory. Entries are kept per org, project, domain and key;
/// a Put over an entry is refused `already_exists` unless it asks to overwrite; a reservation
/// is held by its owner until released or three heartbeats after its last extension, and
/// another owner asking gets the holder's reservation back.
final class ReferenceCacheService: Sendable {
    struct Scoped: Hashable {
        var org: String
        var project: String
        var domain: String
        var key: String
    }

    struct Reservation {
        var owner: String
        var expires: Date
    }

    /// The calls answered, as `Method key`.
    let calls = LockedBox<[String]>([])
    let entries = LockedBox<[Scoped: Flyteidl2_Cacheservice_CachedOutput]>([:])
    let reservations = LockedBox<[Scoped: Reservation]>([:])
    /// When set, every call is answered with this Connect error.
    let failure = LockedBox<(status: Int, code: String)?>(nil)
    private let serverBox = LockedBox<LoopbackHTTPServer?>(nil)
    var url: String { serverBox.value!.url }

    /// A reservation lapses this many heartbeats after its last extension (Flyte: 3).
    let graceHeartbeats: Double

    init(graceHeartbeats: Double = 3) async throws {
        self.graceHeartbeats = graceHeartbeats
        let server = try await LoopbackHTTPServer { [weak self] request in
            guard let self else { return .init(status: 503) }
            return self.answer(request)
        }
        serverBox.withLock { $0 = server }
    }

    func stop() async { await serverBox.value?.stop() }

    /// A client of this service.
    func client(http: any HTTPFetching, _ configure: (inout CacheServiceConfig) -> Void = { _ in }) throws -> CacheServiceClient {
        var config = CacheServiceConfig(url: url + "/")
        configure(&config)
        return try CacheServiceClient(config: config, http: http)
    }

    /// Calls of `method`.
    func count(_ method: String) -> Int { calls.value.filter { $0.hasPrefix(method + " ") }.count }

    private func error(_ status: Int, _ code: String, _ message: String) -> LoopbackHTTPServer.Response {
        .init(status: status, headers: [("Content-Type", "application/json")], body: Array(#"{"code":"\#(code)","message":"\#(message)"}"#.utf8))
    }

    private func ok(_ message: some SwiftProtobuf.Message) -> LoopbackHTTPServer.Response {
        .init(status: 200, headers: [("Content-Type", "application/proto")], body: try! message.serializedBytes())
    }

    private func answer(_ request: LoopbackHTTPServer.Request) -> LoopbackHTTPServer.Response {
        guard request.method == "POST", request.path.hasPrefix(CacheServiceClient.service),
              request.header("Content-Type") == "application/proto", request.header("Connect-Protocol-Version") == "1" else {
            return error(404, "unimplemented", "no such method")
        }
        if let failure = failure.value { return error(failure.status, failure.code, "told to fail") }
        let method = String(request.path.dropFirst(CacheServiceClient.service.count))
        let now = Date()
        func scoped(_ id: Flyteidl2_Cacheservice_V2_Identifier, _ key: String) -> Scoped? {
            id.org.isEmpty && id.project.isEmpty ? nil : Scoped(org: id.org, project: id.project, domain: id.domain, key: key)
        }
        switch method {
        case "Get":
            guard let get = try? Flyteidl2_Cacheservice_V2_GetCacheRequest(serializedBytes: request.body), let at = scoped(get.identifier, get.baseRequest.key) else {
                return error(400, "invalid_argument", "not a scoped GetCacheRequest")
            }
            calls.withLock { $0.append("Get \(at.key)") }
            guard let entry = entries.value[at] else { return error(404, "not_found", "cache entry not found") }
            var response = Flyteidl2_Cacheservice_GetCacheResponse()
            response.output = entry
            return ok(response)
        case "Put":
            guard let put = try? Flyteidl2_Cacheservice_V2_PutCacheRequest(serializedBytes: request.body), let at = scoped(put.identifier, put.baseRequest.key) else {
                return error(400, "invalid_argument", "not a scoped PutCacheRequest")
            }
            calls.withLock { $0.append("Put \(at.key)") }
            guard case .outputUri(let uri)? = put.baseRequest.output.output, !uri.isEmpty else { return error(400, "invalid_argument", "output_uri is required") }
            let refused = entries.withLock { entries -> Bool in
                if entries[at] != nil, !put.baseRequest.overwrite.overwrite { return true }
                var entry = put.baseRequest.output
                entry.metadata.lastUpdatedAt = Google_Protobuf_Timestamp(date: now)
                entries[at] = entry
                return false
            }
            return refused ? error(409, "already_exists", "cache entry already exists") : ok(Flyteidl2_Cacheservice_PutCacheResponse())
        case "GetOrExtendReservation":
            guard let reserve = try? Flyteidl2_Cacheservice_V2_GetOrExtendReservationRequest(serializedBytes: request.body),
                  let at = scoped(reserve.identifier, reserve.baseRequest.key), !reserve.baseRequest.ownerID.isEmpty else {
                return error(400, "invalid_argument", "not a scoped GetOrExtendReservationRequest with an owner")
            }
            calls.withLock { $0.append("GetOrExtendReservation \(at.key) \(reserve.baseRequest.ownerID)") }
            let heartbeat = min(10, max(1, Double(reserve.baseRequest.heartbeatInterval.seconds)))
            let holder = reservations.withLock { held -> Reservation in
                if let current = held[at], current.owner != reserve.baseRequest.ownerID, current.expires > now { return current }
                let taken = Reservation(owner: reserve.baseRequest.ownerID, expires: now.addingTimeInterval(graceHeartbeats * heartbeat))
                held[at] = taken
                return taken
            }
            var response = Flyteidl2_Cacheservice_GetOrExtendReservationResponse()
            response.reservation.key = at.key
            response.reservation.ownerID = holder.owner
            response.reservation.expiresAt = Google_Protobuf_Timestamp(date: holder.expires)
            return ok(response)
        case "ReleaseReservation":
            guard let release = try? Flyteidl2_Cacheservice_V2_ReleaseReservationRequest(serializedBytes: request.body),
                  let at = scoped(release.identifier, release.baseRequest.key), !release.baseRequest.ownerID.isEmpty else {
                return error(400, "invalid_argument", "not a scoped ReleaseReservationRequest with an owner")
            }
            calls.withLock { $0.append("ReleaseReservation \(at.key) \(release.baseRequest.ownerID)") }
            reservations.withLock { held in
                if held[at]?.owner == release.baseRequest.ownerID { held[at] = nil }
            }
            return ok(Flyteidl2_Cacheservice_ReleaseReservationResponse())
        default:
            return error(404, "unimplemented", "no method \(method)")
        }
    }
}
