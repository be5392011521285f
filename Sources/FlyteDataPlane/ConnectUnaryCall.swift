import Foundation
import SwiftProtobuf

/// One unary call over the Connect protocol with protobuf bodies
/// (`POST <base>/<package.Service>/<Method>`, `Content-Type: application/proto`), as Flyte's
/// services take them: the events service and the cache service.
struct ConnectUnaryCall: Sendable {
    /// The base URL with no trailing slash.
    let base: String
    let timeoutSeconds: Int
    /// Sent as `Authorization: Bearer <contents>`, read at every call: projected
    /// service-account tokens rotate.
    let tokenFile: String?
    let http: any HTTPFetching
    let maxResponseBytes: Int

    init(base: String, timeoutSeconds: Int, tokenFile: String?, http: any HTTPFetching, maxResponseBytes: Int = 1 << 20) {
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.base = trimmed
        self.timeoutSeconds = timeoutSeconds
        self.tokenFile = tokenFile
        self.http = http
        self.maxResponseBytes = maxResponseBytes
    }

    /// How a call failed.
    enum Failure: Error, Sendable {
        /// The service answered with an error: its Connect code (or the one Connect maps the
        /// HTTP status to) and message.
        case rpc(httpStatus: Int, code: String, message: String)
        /// No answer, or an answer that is not the response message.
        case transport(String)
    }

    /// The response's bytes, undecoded.
    func call(_ path: String, _ request: some SwiftProtobuf.Message) async -> Result<[UInt8], Failure> {
        let url = base + path
        let body: [UInt8]
        do {
            body = try request.serializedBytes()
        } catch {
            return .failure(.transport("cannot serialise the request: \(error)"))
        }
        var headers: [(String, String)] = [
            ("Content-Type", "application/proto"),
            ("Connect-Protocol-Version", "1"),
            ("Connect-Timeout-Ms", String(timeoutSeconds * 1000)),
        ]
        if let tokenFile, !tokenFile.isEmpty {
            guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                return .failure(.transport("cannot read the token file \(tokenFile)"))
            }
            headers.append(("Authorization", "Bearer \(token.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        let response: HTTPFetchResponse
        do {
            response = try await http.fetch(HTTPFetchRequest(method: "POST", url: url, headers: headers, body: body), maxBytes: maxResponseBytes)
        } catch {
            return .failure(.transport("POST \(url): \(error)"))
        }
        guard response.status == 200 else {
            let (code, message) = ConnectErrorBody.parse(status: response.status, body: response.body)
            return .failure(.rpc(httpStatus: response.status, code: code, message: message))
        }
        return .success(response.body)
    }

    /// The response decoded as `Response`.
    func call<Response: SwiftProtobuf.Message>(_ path: String, _ request: some SwiftProtobuf.Message, returning: Response.Type) async -> Result<Response, Failure> {
        switch await call(path, request) {
        case .failure(let failure): return .failure(failure)
        case .success(let bytes):
            do {
                return .success(try Response(serializedBytes: bytes))
            } catch {
                return .failure(.transport("POST \(base + path): the answer is not a \(Response.protoMessageName): \(error)"))
            }
        }
    }
}

/// A Connect error body: `{"code": "unavailable", "message": "…"}`; anything else keeps
/// the HTTP status and the first bytes of the body.
enum ConnectErrorBody {
    static func parse(status: Int, body: [UInt8]) -> (code: String, message: String) {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let code = object["code"] as? String {
            return (code, object["message"] as? String ?? "")
        }
        return (codeForStatus(status), String(decoding: body.prefix(200), as: UTF8.self))
    }

    /// Connect's mapping of an HTTP status without a Connect body to a code.
    static func codeForStatus(_ status: Int) -> String {
        switch status {
        case 400: "internal"
        case 401: "unauthenticated"
        case 403: "permission_denied"
        case 404: "unimplemented"
        case 429, 502, 503, 504: "unavailable"
        default: "unknown"
        }
    }
}
