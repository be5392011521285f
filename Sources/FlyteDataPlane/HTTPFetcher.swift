import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP request of the data plane: small bodies both ways.
public struct HTTPFetchRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Status, headers and the whole body of a response.
public struct HTTPFetchResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// The transport the data plane's clients share (tests substitute their own).
public protocol HTTPFetching: Sendable {
    /// Sends `request` and reads at most `maxBytes` of the response body; a longer body is
    /// an error, so a wrong URI cannot make the executor buffer a large object.
    func fetch(_ request: HTTPFetchRequest, maxBytes: Int) async throws -> HTTPFetchResponse
}

/// ``HTTPFetching`` on AsyncHTTPClient: connection pooling, HTTP/2 where TLS negotiates it
/// (plain-text connections stay HTTP/1.1), an optional CA bundle, and a deadline for the
/// whole exchange (AsyncHTTPClient's own timeout stops once headers arrive, so the body read
/// is bounded here too).
public final class HTTPFetcher: HTTPFetching {
    let client: HTTPClient
    let timeout: Duration

    /// - Parameter caFile: a PEM bundle trusted instead of the system's roots.
    public init(timeout: Duration, caFile: String? = nil) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile, !caFile.isEmpty {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.httpVersion = .automatic
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(max(1, timeout.components.seconds)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        self.timeout = timeout
    }

    public func fetch(_ request: HTTPFetchRequest, maxBytes: Int) async throws -> HTTPFetchResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        let response = try await client.execute(outgoing, deadline: deadline)
        let body: ByteBuffer
        if request.method == "HEAD" {
            body = ByteBuffer()
        } else {
            // The limit is for what was asked for; an error answer (an S3 XML error, a
            // Connect JSON error) may be larger than a small object and is still read.
            let limit = (200..<300).contains(Int(response.status.code)) ? maxBytes : max(maxBytes, 64 * 1024)
            do {
                body = try await withDeadline(timeout) { try await response.body.collect(upTo: limit) }
            } catch is NIOTooManyBytesError {
                throw BlobStoreError.tooLarge(request.url, limit: limit)
            }
        }
        return HTTPFetchResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: body))
    }

    /// Closes the pool; call once, after the last request.
    public func shutdown() async {
        try? await client.shutdown()
    }
}

/// Runs `body`, cancelling it and throwing `HTTPFetchTimeout` after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw HTTPFetchTimeout(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// A response body that did not arrive within the fetcher's timeout.
public struct HTTPFetchTimeout: Error, CustomStringConvertible {
    public var limit: Duration
    public var description: String { "no complete response within \(limit)" }
}
