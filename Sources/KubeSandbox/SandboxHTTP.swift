import KubeClient
import NIOCore
import NIOHTTP1

/// A request as the API layer sees it, transport details resolved.
struct SandboxRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var query: [String: String]
    var headers: HTTPHeaders
    var body: [UInt8]
    /// The authenticated user, from a client certificate or token; `nil` for anonymous.
    var user: SandboxUser?
    /// The response form negotiated from `Accept` (set once the route is known).
    var form: ResponseForm = .json

    init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8], user: SandboxUser?) {
        self.method = method
        self.headers = headers
        self.body = body
        self.user = user
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "").removingPercentEncoding ?? String(parts.first ?? "")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.decode(kv[0])
                query[key] = kv.count > 1 ? Self.decode(kv[1]) : ""
            }
        }
        self.query = query
    }

    /// Go's `url.QueryUnescape`: `+` is a space.
    static func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    var accept: String { headers.first(name: "Accept") ?? "application/json" }
    var contentType: String { headers.first(name: "Content-Type")?.split(separator: ";").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? "" }
}

/// What the API layer answers: a whole body, or a stream of chunks (watches).
enum SandboxResponse: Sendable {
    case full(status: Int, headers: [(String, String)], body: [UInt8])
    case stream(status: Int, headers: [(String, String)], chunks: AsyncStream<[UInt8]>)

    var status: Int {
        switch self {
        case .full(let status, _, _), .stream(let status, _, _): status
        }
    }

    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = [], contentType: String = "application/json") -> SandboxResponse {
        var body = value.serialized()
        body.append(UInt8(ascii: "\n"))
        return .full(status: status, headers: [("Content-Type", contentType)] + headers, body: body)
    }

    static func error(_ error: APIError) -> SandboxResponse {
        var headers: [(String, String)] = []
        if let retry = error.retryAfterSeconds { headers.append(("Retry-After", String(retry))) }
        var value: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure"]
        if let message = error.status.message { value["message"] = .string(message) }
        if let reason = error.status.reason, !reason.isEmpty { value["reason"] = .string(reason) }
        if let details = error.status.details {
            var d: JSONValue = [:]
            if let name = details.name { d["name"] = .string(name) }
            if let group = details.group { d["group"] = .string(group) }
            if let kind = details.kind { d["kind"] = .string(kind) }
            if let causes = details.causes {
                d["causes"] = .array(causes.map { c in
                    var o: JSONValue = [:]
                    if let r = c.reason { o["reason"] = .string(r) }
                    if let m = c.message { o["message"] = .string(m) }
                    if let f = c.field { o["field"] = .string(f) }
                    return o
                })
            }
            if let retry = details.retryAfterSeconds { d["retryAfterSeconds"] = .int(Int64(retry)) }
            value["details"] = d
        }
        value["code"] = .int(Int64(error.code))
        return json(error.code, value, headers: headers)
    }
}
