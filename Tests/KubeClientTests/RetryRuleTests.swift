import AsyncHTTPClient
import Foundation
@testable import KubeClient
import NIOCore
import Testing

/// When a failed request may be sent again: never a write the server may have applied.
@Suite("Transport retry rules")
struct RetryRuleTests {
    @Test("a write that failed on a pooled connection the server had closed was never sent, so every verb retries it")
    func closedPooledConnection() {
        #expect(HTTPTransport.wasNotSent(ChannelError.ioOnClosedChannel))
    }

    @Test("a connection that could not be opened was never sent to")
    func connectFailures() {
        #expect(HTTPTransport.wasNotSent(HTTPClientError.connectTimeout))
        #expect(HTTPTransport.wasNotSent(HTTPClientError.tlsHandshakeTimeout), "a connection whose TLS never finished carried nothing")
        #expect(HTTPTransport.wasNotSent(ChannelError.connectTimeout(.seconds(1))))
        #expect(HTTPTransport.wasNotSent(IOError(errnoCode: ECONNREFUSED, reason: "connect")), "nothing listens (an API server restarting)")
        #expect(HTTPTransport.wasNotSent(IOError(errnoCode: EHOSTUNREACH, reason: "connect")))
    }

    @Test("a connection that closed after the request went out may have been applied: only idempotent verbs retry")
    func closedAfterSending() {
        #expect(!HTTPTransport.wasNotSent(HTTPClientError.remoteConnectionClosed))
        #expect(!HTTPTransport.wasNotSent(HTTPClientError.readTimeout))
        #expect(!HTTPTransport.wasNotSent(ChannelError.eof))
        #expect(!HTTPTransport.wasNotSent(IOError(errnoCode: ECONNRESET, reason: "read")))
        #expect(HTTPTransport.idempotent.contains(.PUT) && HTTPTransport.idempotent.contains(.DELETE) && HTTPTransport.idempotent.contains(.GET))
        #expect(!HTTPTransport.idempotent.contains(.POST) && !HTTPTransport.idempotent.contains(.PATCH))
    }
}
