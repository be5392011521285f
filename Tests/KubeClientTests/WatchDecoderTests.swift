import Foundation
@testable import KubeClient
import Testing

@Suite("Watch stream decoding")
struct WatchDecoderTests {
    static let podEvent = #"{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","namespace":"default","resourceVersion":"10"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}"#

    func lines(_ chunks: [[UInt8]], max: Int = 1 << 20) throws -> [String] {
        var decoder = WatchLineDecoder(maxLineBytes: max)
        var out: [String] = []
        for chunk in chunks {
            decoder.append(chunk)
            while let line = try decoder.nextLine() { out.append(String(decoding: line, as: UTF8.self)) }
        }
        decoder.finish()
        while let line = try decoder.nextLine() { out.append(String(decoding: line, as: UTF8.self)) }
        return out
    }

    @Test("reassembles events split at every byte boundary")
    func splitEverywhere() throws {
        let stream = Array((Self.podEvent + "\n" + Self.podEvent + "\n").utf8)
        for cut in 1..<stream.count {
            let result = try lines([Array(stream[..<cut]), Array(stream[cut...])])
            #expect(result == [Self.podEvent, Self.podEvent], "cut at \(cut)")
        }
    }

    @Test("returns a last event that has no trailing newline and skips blank lines")
    func trailingAndBlank() throws {
        #expect(try lines([Array("\n\r\n\(Self.podEvent)".utf8)]) == [Self.podEvent])
    }

    @Test("decodes a multi-megabyte object arriving in small chunks")
    func hugeObject() throws {
        let big = String(repeating: "x", count: 4 << 20)
        let event = #"{"type":"MODIFIED","object":{"metadata":{"name":"p","annotations":{"big":"\#(big)"}}}}"#
        let bytes = Array((event + "\n").utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 16384).map { Array(bytes[$0..<min($0 + 16384, bytes.count)]) }
        let result = try lines(chunks, max: 8 << 20)
        #expect(result.count == 1)
        let decoded = try WatchEventDecoder.typed(ArraySlice(Array(result[0].utf8)), as: Pod.self)
        #expect(decoded.object?.metadata.annotations?["big"]?.count == 4 << 20)
    }

    @Test("refuses an event larger than the limit")
    func limit() {
        #expect(throws: KubeClientError.self) { try lines([Array(String(repeating: "x", count: 1000).utf8)], max: 100) }
        // A whole event over the limit, newline included, in one chunk: refused all the same.
        #expect(throws: KubeClientError.self) { try lines([Array((String(repeating: "x", count: 1000) + "\n").utf8)], max: 100) }
        #expect((try? lines([Array((String(repeating: "x", count: 100) + "\n").utf8)], max: 100))?.count == 1)
    }

    @Test("typed and dynamic decoding agree, bookmarks carry only the version")
    func typedAndDynamic() throws {
        let typed = try WatchEventDecoder.typed(ArraySlice(Array(Self.podEvent.utf8)), as: Pod.self)
        let dynamic = try WatchEventDecoder.dynamic(ArraySlice(Array(Self.podEvent.utf8)))
        #expect(typed.type == .added && dynamic.type == .added)
        #expect(typed.object?.metadata.name == dynamic.object?.value(atPath: "metadata.name")?.stringValue)
        let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12345"}}}"#
        guard case .bookmark(let rv) = try WatchEventDecoder.typed(ArraySlice(Array(bookmark.utf8)), as: Pod.self) else {
            Issue.record("not a bookmark")
            return
        }
        #expect(rv == "12345")
    }

    @Test("an ERROR event throws the server's Status, 410 Gone included")
    func errorEvent() throws {
        let line = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (50)","reason":"Expired","code":410}}"#
        for decode in [{ _ = try WatchEventDecoder.typed(ArraySlice(Array(line.utf8)), as: Pod.self) }, { _ = try WatchEventDecoder.dynamic(ArraySlice(Array(line.utf8))) }] {
            do {
                try decode()
                Issue.record("expected an error")
            } catch let error as KubeAPIError {
                #expect(error.isGone)
                #expect(error.code == 410)
                #expect(error.message.contains("too old"))
            }
        }
    }
}

@Suite("API errors")
struct APIErrorTests {
    @Test("classifies Status reasons and codes")
    func classification() {
        func error(_ code: Int, _ reason: String) -> KubeAPIError { KubeAPIError(code: code, status: Status(reason: reason, code: code)) }
        #expect(error(404, "NotFound").isNotFound)
        #expect(error(409, "Conflict").isConflict && !error(409, "Conflict").isAlreadyExists)
        #expect(error(409, "AlreadyExists").isAlreadyExists && !error(409, "AlreadyExists").isConflict)
        #expect(error(410, "Expired").isGone)
        #expect(error(422, "Invalid").isInvalid)
        #expect(error(429, "TooManyRequests").isTooManyRequests)
        #expect(KubeAPIError(code: 429, status: Status(reason: "TooManyRequests", details: StatusDetails(retryAfterSeconds: 3), code: 429)).retryAfterSeconds == 3)
    }
}
