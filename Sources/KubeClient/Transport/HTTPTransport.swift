import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One finished HTTP exchange, reported to a ``KubernetesClient/RequestObserver``.
public struct RequestRecord: Sendable {
    public var method: String
    public var host: String
    /// The HTTP status, or `nil` when no response arrived.
    public var code: Int?
    public var duration: Duration
    /// The resource path without query, for logs.
    public var path: String
    /// True for a watch (a streamed GET).
    public var isWatch: Bool = false
}

/// Sends requests to one API server over AsyncHTTPClient, with authentication, retries, limits
/// and the optional client-side rate limit.
///
/// Two clients share one configuration and differ in one setting. `client` carries every call
/// and the watches that rely on it to notice a dead connection: it fails a response silent for
/// ``ClientConfiguration/readIdleTimeout``. `watchClient` carries the watches whose callers run
/// a watchdog of their own (``WatchSilence/caller``): it has no read timeout, because
/// AsyncHTTPClient re-arms its read timer on every read, and a busy informer's watch is read
/// thousands of times a minute (2.8% of the executor's CPU under load).
final class HTTPTransport: Sendable {
    let configuration: ClientConfiguration
    let client: HTTPClient
    let watchClient: HTTPClient
    let credentials: CredentialProvider
    let limiter: RateLimiter?
    let baseURL: String
    let observer: (@Sendable (RequestRecord) -> Void)?
    let clock: any RuntimeClock
    let logger: Logger

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    init(configuration: ClientConfiguration, observer: (@Sendable (RequestRecord) -> Void)?, clock: any RuntimeClock, logger: Logger) throws(KubeClientError) {
        self.configuration = configuration
        self.observer = observer
        self.clock = clock
        self.logger = logger
        var httpConfig = HTTPClient.Configuration()
        httpConfig.timeout = .init(connect: .nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9)), read: .nanoseconds(Int64(configuration.readIdleTimeout.seconds * 1e9)))
        httpConfig.redirectConfiguration = .disallow
        // Every informer holds one watch open; the default of 8 connections per host would starve ordinary calls.
        httpConfig.connectionPool = .init(idleTimeout: .seconds(90), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        // A refused connect fails the calls waiting for it, and `withRetries` tries them again
        // with its own backoff. AsyncHTTPClient's own retries back a failed connection off by
        // 100 ms × 1.25^(failures in a row, pool-wide), up to 60 s: over HTTP/1.1 a busy
        // controller's calls fail dozens of connects in a 2 s outage, and those connections,
        // still "starting" while they back off, keep later calls from opening new ones for
        // up to a minute after the API server is back (each try failing at the 10 s connect
        // timeout).
        httpConfig.connectionPool.retryConnectionEstablishment = false
        httpConfig.decompression = .enabled(limit: .ratio(50))
        httpConfig.httpVersion = configuration.httpVersion == .http1 ? .http1Only : .automatic
        // No request spans: the default (swift-distributed-tracing's global tracer, a no-op unless
        // bootstrapped) still parses each request's URL into span attributes, about 1.5% of the
        // executor's CPU under load, for spans nobody collects.
        httpConfig.tracing.tracer = nil
        var base = configuration.server
        if configuration.server.scheme == "https" {
            httpConfig.tlsConfiguration = try Self.tlsConfiguration(configuration.tls, clientCertificatePEM: configuration.tls.clientCertificatePEM, clientKeyPEM: configuration.tls.clientKeyPEM)
            if let serverName = configuration.tls.serverName, let realHost = configuration.server.host,
                var components = URLComponents(url: configuration.server, resolvingAgainstBaseURL: false)
            {
                // tls-server-name: address the server by that name (SNI and verification use it)
                // while connecting to the real host.
                components.host = serverName
                httpConfig.dnsOverride = [serverName: realHost]
                base = components.url ?? base
            }
        }
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        baseURL = text
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfig)
        httpConfig.timeout.read = nil
        watchClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfig)
        credentials = CredentialProvider(configuration.credentials, tls: configuration.tls)
        limiter = configuration.rateLimit.map(RateLimiter.init)
    }

    static func tlsConfiguration(_ settings: ClientConfiguration.TLSSettings, clientCertificatePEM: [UInt8]?, clientKeyPEM: [UInt8]?) throws(KubeClientError) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if settings.insecureSkipVerify {
                tls.certificateVerification = .none
            } else if let ca = settings.caPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let cert = clientCertificatePEM, let key = clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw .invalidConfiguration("\(error)")
        }
        return tls
    }

    func shutdown() async throws {
        // Both, even when the first fails, so neither is left running.
        var failure: (any Error)?
        do { try await client.shutdown() } catch { failure = error }
        try await watchClient.shutdown()
        if let failure { throw failure }
    }

    static let idempotent: [HTTPMethod] = [.GET, .HEAD, .PUT, .DELETE, .OPTIONS]

    func url(path: String, query: [(String, String)]) -> String {
        var url = baseURL + path
        if !query.isEmpty {
            var allowed = CharacterSet.urlQueryAllowed
            allowed.remove(charactersIn: "&=+,;")
            url += "?" + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
        }
        return url
    }

    /// Builds the request with authentication; the body is a byte array so it can be resent on retry.
    func makeRequest(method: HTTPMethod, path: String, query: [(String, String)], body: [UInt8]?, contentType: String?, accept: String) async throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url(path: path, query: query))
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let body {
            if body.count > configuration.maxRequestBodyBytes {
                throw KubeClientError.tooLarge("request body of \(body.count) bytes exceeds the limit of \(configuration.maxRequestBodyBytes)")
            }
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let auth = try await credentials.resolve()
        if let header = auth.authorization { request.headers.add(name: "Authorization", value: header) }
        if let tls = auth.tlsConfiguration { request.tlsConfiguration = tls }
        return request
    }

    /// Sends a request and reads its whole body, retrying as ``ClientConfiguration/RetryPolicy`` says.
    /// An HTTP error status is returned, not thrown; the caller turns it into a ``KubeAPIError``.
    func send(method: HTTPMethod, path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil, accept: String = "application/json") async throws -> Response {
        try await withRetries(method: method) { () async throws -> (Response, HTTPClientResponse?) in
            let request = try await self.makeRequest(method: method, path: path, query: query, body: body, contentType: contentType, accept: accept)
            let started = ContinuousClock.now
            do {
                let response = try await self.client.execute(request, timeout: .nanoseconds(Int64(self.configuration.requestTimeout.seconds * 1e9)))
                let buffer: ByteBuffer
                do {
                    buffer = try await response.body.collect(upTo: self.configuration.maxResponseBodyBytes)
                } catch is NIOTooManyBytesError {
                    throw KubeClientError.tooLarge("response to \(method) \(path) exceeds the limit of \(self.configuration.maxResponseBodyBytes) bytes")
                }
                self.observe(method, path, Int(response.status.code), started)
                return (Response(status: Int(response.status.code), headers: response.headers, body: buffer), nil)
            } catch {
                self.observe(method, path, nil, started)
                throw error
            }
        }.0
    }

    /// Sends a request whose body will be streamed (a watch). A success status returns the open
    /// response; an error status is read whole and returned with a `nil` stream. `silence` says
    /// which client carries it (see the type's comment).
    func stream(method: HTTPMethod, path: String, query: [(String, String)], silence: WatchSilence = .transport) async throws -> (Response, HTTPClientResponse?) {
        let client = silence == .caller ? watchClient : client
        return try await withRetries(method: method) { () async throws -> (Response, HTTPClientResponse?) in
            let request = try await self.makeRequest(method: method, path: path, query: query, body: nil, contentType: nil, accept: "application/json")
            let started = ContinuousClock.now
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(Int64(self.configuration.requestTimeout.seconds * 1e9)))
                self.observe(method, path, Int(response.status.code), started, watch: true)
                if response.status.code >= 300 {
                    let buffer = try await response.body.collect(upTo: 1024 * 1024)
                    return (Response(status: Int(response.status.code), headers: response.headers, body: buffer), nil)
                }
                return (Response(status: Int(response.status.code), headers: response.headers, body: ByteBuffer()), response)
            } catch {
                self.observe(method, path, nil, started, watch: true)
                throw error
            }
        }
    }

    private func observe(_ method: HTTPMethod, _ path: String, _ code: Int?, _ started: ContinuousClock.Instant, watch: Bool = false) {
        guard let observer else { return }
        observer(RequestRecord(method: method.rawValue, host: configuration.server.host ?? "", code: code, duration: ContinuousClock.now - started, path: path, isWatch: watch))
    }

    private func withRetries(method: HTTPMethod, _ attempt: () async throws -> (Response, HTTPClientResponse?)) async throws -> (Response, HTTPClientResponse?) {
        let policy = configuration.retry
        var backoff = policy.backoff
        var refreshedCredentials = false
        var attemptNumber = 1
        while true {
            if let limiter { try await limiter.acquire() }
            let delay: Duration
            do {
                let result = try await attempt()
                let status = result.0.status
                if status == 401, !refreshedCredentials, case .exec = configuration.credentials {
                    refreshedCredentials = true
                    await credentials.invalidate()
                    continue
                }
                let retryable = status == 429 || (Self.idempotent.contains(method) && [500, 502, 503, 504].contains(status))
                guard retryable, attemptNumber < policy.maxAttempts else { return result }
                if let retryAfter = result.0.headers.first(name: "Retry-After").flatMap(Int.init) {
                    delay = min(.seconds(retryAfter), policy.maxRetryAfter)
                } else {
                    delay = backoff.next(now: clock.now)
                }
                logger.debug("retrying after HTTP \(status)", metadata: ["method": "\(method)", "attempt": "\(attemptNumber)", "delay": "\(delay)"])
            } catch let error as KubeClientError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard attemptNumber < policy.maxAttempts, Self.idempotent.contains(method) || Self.wasNotSent(error) else {
                    throw KubeClientError.transport("\(method) \(configuration.server.absoluteString): \(error)")
                }
                delay = backoff.next(now: clock.now)
                logger.debug("retrying after transport error", metadata: ["method": "\(method)", "error": "\(error)"])
            }
            attemptNumber += 1
            try await clock.sleep(for: delay)
        }
    }

    /// A failure that shows the request was never sent, so any verb may be retried without
    /// the risk of applying a write twice: the connection could not be opened, or the pooled
    /// connection the request was given had already been closed by the server (a restart, an
    /// idle timeout, a load balancer) and the write failed on it. A connection that closed
    /// after the request went out (`remoteConnectionClosed`) is not among these: the server
    /// may have applied it, so only idempotent verbs retry then, as in client-go.
    static func wasNotSent(_ error: any Error) -> Bool {
        if let e = error as? HTTPClientError { return e == .connectTimeout || e == .tlsHandshakeTimeout }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout, .ioOnClosedChannel: return true
            default: return false
            }
        }
        // What a connect reports when nothing listens or no route leads there: only a connect
        // fails so (ECONNRESET, which a sent request may meet too, is not among them).
        if let e = error as? IOError { return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(e.errnoCode) }
        return error is NIOConnectionError
    }
}
