import AsyncHTTPClient
import Foundation
import NIOCore

/// The events of one watch call, decoded line by line as bytes arrive.
///
/// The stream ends when the server closes the watch (its `timeoutSeconds` elapsed) and throws
/// a ``KubeAPIError`` for an `ERROR` event (410 Gone when the version is too old). Cancel the
/// consuming task to stop it. With ``WatchSilence/transport`` (the default), a connection silent
/// past ``ClientConfiguration/readIdleTimeout`` fails with a transport error; with
/// ``WatchSilence/caller``, only the caller's own watchdog ends a silent one.
public struct WatchStream<Object: Sendable>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>

    let response: HTTPClientResponse
    let decode: @Sendable (ArraySlice<UInt8>) throws -> WatchEvent<Object>?
    let maxEventBytes: Int

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: response.body.makeAsyncIterator(), decoder: WatchLineDecoder(maxLineBytes: maxEventBytes), decode: decode)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        var decoder: WatchLineDecoder
        let decode: @Sendable (ArraySlice<UInt8>) throws -> WatchEvent<Object>?
        var finished = false

        public mutating func next() async throws -> WatchEvent<Object>? {
            while true {
                while let line = try decoder.nextLine() {
                    if let event = try decode(line) { return event }
                }
                if finished { return nil }
                if let chunk = try await body.next() {
                    decoder.append(chunk.readableBytesView)
                } else {
                    finished = true
                    decoder.finish()
                }
            }
        }
    }
}

/// Splits a byte stream into newline-delimited lines without holding more than the current
/// partial line and the unread tail of the last chunk.
public struct WatchLineDecoder: Sendable {
    var buffer: [UInt8] = []
    var start = 0
    var scanned = 0
    var atEnd = false
    let maxLineBytes: Int

    public init(maxLineBytes: Int = 16 * 1024 * 1024) { self.maxLineBytes = maxLineBytes }

    /// Adds bytes as they arrive.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            // Compact once consumed bytes dominate, so the buffer never grows with the stream.
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The index of the next `\n` at or after `from`, found with memchr.
    static func newline(in buffer: [UInt8], from: Int) -> Int? {
        guard from < buffer.count else { return nil }
        return buffer.withUnsafeBufferPointer { raw -> Int? in
            guard let base = raw.baseAddress, let hit = memchr(base + from, 0x0A, raw.count - from) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// Marks the end of input; a last line without a newline is still returned.
    public mutating func finish() { atEnd = true }

    /// The next complete non-blank line, or `nil` until more bytes arrive.
    public mutating func nextLine() throws(KubeClientError) -> ArraySlice<UInt8>? {
        while true {
            let newline = Self.newline(in: buffer, from: scanned)
            // The line so far, whole or partial, is measured against the limit: whether an
            // event is refused must not depend on how its bytes were split into chunks.
            if (newline ?? buffer.count) - start > maxLineBytes {
                throw .tooLarge("watch event larger than \(maxLineBytes) bytes")
            }
            if let newline {
                let line = buffer[start..<newline]
                start = newline + 1
                scanned = start
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                return line
            }
            scanned = buffer.count
            if atEnd && start < buffer.count {
                let line = buffer[start...]
                start = buffer.count
                scanned = start
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 || $0 == 0x0A }) { return nil }
                return line
            }
            return nil
        }
    }
}

/// Decoding of watch event lines into typed or dynamic events.
public enum WatchEventDecoder {
    /// Decodes one line into a typed event; `ERROR` events throw ``KubeAPIError``.
    ///
    /// One forward pass over the line: the object is read where it stands, through
    /// ``JSONReadable`` when `T` reads itself and through `Decodable` otherwise.
    /// - Parameter decoder: how to decode; a cache passes one that discards unknown fields and managedFields.
    public static func typed<T: Decodable & Sendable>(_ line: ArraySlice<UInt8>, as: T.Type = T.self, decoder: JSONBytesDecoder = JSONBytesDecoder()) throws -> WatchEvent<T> {
        let read: Result<WatchEvent<T>, KubeAPIError>
        do {
            read = try decoder.withReader(line) { reader in try readEvent(&reader, as: T.self) }
        } catch {
            throw KubeClientError.decoding("watch event: \(error)")
        }
        return try read.get()
    }

    /// Reads one event; an `ERROR` event is the failure, with the server's Status.
    static func readEvent<T: Decodable & Sendable>(_ reader: inout JSONReader, as: T.Type) throws -> Result<WatchEvent<T>, KubeAPIError> {
        var type: WatchEventType?
        var payload: Payload<T>?
        var deferred: (start: Int, end: Int)?
        try reader.readObject { key, value in
            switch key {
            case "type":
                let text = try value.readString()
                guard let known = WatchEventType(rawValue: text) else { throw value.fail("unknown watch event type \(text)") }
                type = known
            case "object":
                // kube-apiserver writes the type first; keep the object's place if not.
                if let type { payload = try readPayload(&value, type) } else { deferred = try value.skipValueRange() }
            default: break
            }
        }
        guard let type else { throw reader.fail("watch event without a type") }
        if let deferred {
            var objectReader = reader.subReader(deferred.start..<deferred.end)
            payload = try readPayload(&objectReader, type)
        }
        // `consume`: the object moves into the event instead of being copied (a copy retains
        // every string and collection it holds).
        switch consume payload {
        case .bookmark(let version):
            return .success(.bookmark(resourceVersion: version ?? ""))
        case .status(let status):
            return .failure(KubeAPIError(code: status.code ?? 500, status: status))
        case .object(let object):
            switch type {
            case .added: return .success(.added(object))
            case .modified: return .success(.modified(object))
            default: return .success(.deleted(object))
            }
        case nil:
            if type == .error { return .failure(KubeAPIError(code: 500, status: Status(message: "watch error", code: 500))) }
            throw reader.fail("watch event without an object")
        }
    }

    /// What a watch event's `object` holds, by the event's type.
    enum Payload<T> {
        case object(T)
        case status(Status)
        case bookmark(String?)
    }

    static func readPayload<T: Decodable>(_ reader: inout JSONReader, _ type: WatchEventType) throws -> Payload<T> {
        switch type {
        case .error: return .status(try reader.decode(Status.self))
        case .bookmark: return .bookmark(try reader.read(BookmarkObject.self).resourceVersion)
        default: return .object(try reader.decode(T.self, asRoot: true))
        }
    }

    /// A bookmark's object: only `metadata.resourceVersion` counts.
    struct BookmarkObject: JSONReadable {
        var resourceVersion: String?
        init(json: inout JSONReader) throws {
            try json.readObject { key, value in
                guard key == "metadata" else { return }
                try value.readObject { key, value in
                    if key == "resourceVersion" { resourceVersion = try value.read() }
                }
            }
        }
    }

    /// Decodes one line into a dynamic event; `ERROR` events throw ``KubeAPIError``.
    public static func dynamic(_ line: ArraySlice<UInt8>) throws -> WatchEvent<JSONValue> {
        let value: JSONValue
        do { value = try JSONValue.parse(line) } catch { throw KubeClientError.decoding("watch event: \(error)") }
        let object = value["object"] ?? .null
        switch value["type"]?.stringValue {
        case "ADDED": return .added(object)
        case "MODIFIED": return .modified(object)
        case "DELETED": return .deleted(object)
        case "BOOKMARK": return .bookmark(resourceVersion: object.value(atPath: "metadata.resourceVersion")?.stringValue ?? "")
        case "ERROR":
            let status = (try? JSONValueDecoder().decode(Status.self, from: object)) ?? Status(message: "\(object)", code: 500)
            throw KubeAPIError(code: status.code ?? 500, status: status)
        default:
            throw KubeClientError.decoding("watch event with unknown type: \(value["type"] ?? .null)")
        }
    }

}
