import ExecutorAPI
import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The rungs of the floor below AsyncHTTPClient and the informer: the floor's watch of its
/// TaskActions read by less and less code, so that the differences between the rows say what
/// each layer costs per event (``FloorBench``).
///
/// - `socket`: a thread blocked in `read(2)` on a plain socket counts the events' line ends:
///   what the kernel charges a process for each message that arrives alone (the wake-up, the
///   loopback TCP receive, the copy), with next to no code of its own;
/// - `nio`: a NIO channel on the child's event loop, with NIO's HTTP/1.1 decoder (llhttp), splits
///   the body into lines as the watch streams do (``WatchLineDecoder``) and counts them;
/// - `decoded`: as well, each line is decoded as a TaskAction's watch event, with the decoder
///   settings of the executor's informer, on the loop that read it;
/// - `patched`: as well, for each event the loop sends the `requested` row's merge patch on a
///   keep-alive NIO channel of its own (head and body in one write) and counts its answer.
///
/// `watched` reads the same watch through AsyncHTTPClient, the watch stream's task and an
/// informer that caches each object, and `requested` sends its patch through AsyncHTTPClient
/// from a round. Plain HTTP only: these readers speak no TLS.
enum FloorReaders {
    static let watchPath = "/apis/flyte.org/v1/namespaces/default/taskactions?watch=true&labelSelector=\(FloorBench.watchedLabel)%3Dtrue"

    /// The decoder an informer makes with its default options (``InformerOptions``), so that the
    /// rows that decode without one decode as it does.
    static let informerDecoder = JSONBytesDecoder(discardUnknownFields: false, discardManagedFields: true, sharedStrings: .shared)

    /// Opens the watch on a blocking socket and counts each event (a line ending `}\n`) on a
    /// thread of its own until the server closes it.
    static func readBySocket(port: Int, events: FloorBench.Counter) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ReaderError.socket(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ReaderError.socket(errno) }
        let request = Array("GET \(watchPath) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: application/json\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard sent == request.count else { throw ReaderError.socket(errno) }
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            var previous: UInt8 = 0
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                // An event is one JSON object on a line; chunk framing ends its lines with `\r\n`.
                for index in 0..<count {
                    if buffer[index] == UInt8(ascii: "\n"), previous == UInt8(ascii: "}") { events.add() }
                    previous = buffer[index]
                }
            }
            close(descriptor)
        }
        thread.start()
    }

    /// Opens the watch on a NIO channel of the singleton group (the child's one event loop, as
    /// AsyncHTTPClient's connections use) and counts its lines, decoding each when `decode`;
    /// with `answers`, also patches for each modified TaskAction and counts the answers there.
    static func readByNIO(port: Int, decode: Bool, events: FloorBench.Counter, answers: FloorBench.Counter? = nil) async throws -> [any Channel] {
        var patcher: Patcher?
        if let answers {
            patcher = Patcher(channel: try await open(port: port) { AnswerHandler(answers: answers) }, port: port)
        }
        let lineHandlerPatcher = patcher
        let watch = try await open(port: port) { LineHandler(events: events, decode: decode, patcher: lineHandlerPatcher) }
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: watchPath)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        head.headers.add(name: "Accept", value: "application/json")
        watch.write(HTTPClientRequestPart.head(head), promise: nil)
        try await watch.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        return [watch] + (patcher.map { [$0.channel] } ?? [any Channel]())
    }

    /// A plain HTTP/1.1 channel to the sandbox with NIO's client codec and `handler` last.
    static func open<Handler: ChannelInboundHandler & Sendable>(port: Int, handler: @escaping @Sendable () -> Handler) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    /// Sends the `requested` row's merge patch for one watched TaskAction on a keep-alive channel.
    struct Patcher: Sendable {
        let channel: any Channel
        let port: Int

        func patch(watched name: String) {
            let body = Array(#"{"metadata":{"annotations":{"floor-bench/round":"\#(name)"}}}"#.utf8)
            var head = HTTPRequestHead(version: .http1_1, method: .PATCH, uri: "/apis/flyte.org/v1/namespaces/default/taskactions/\(name)-out")
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Accept", value: "application/json")
            head.headers.add(name: "Content-Type", value: "application/merge-patch+json")
            head.headers.add(name: "Content-Length", value: String(body.count))
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
    }

    /// Counts each whole answer of 200 OK on the patcher's channel (a patch refused would leave
    /// the run short of answers, and the stop waiting for them).
    final class AnswerHandler: ChannelInboundHandler, @unchecked Sendable {  // used on its channel's loop only
        typealias InboundIn = HTTPClientResponsePart
        let answers: FloorBench.Counter
        var succeeded = false

        init(answers: FloorBench.Counter) { self.answers = answers }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): succeeded = head.status == .ok
            case .body: break
            case .end: if succeeded { answers.add() }
            }
        }
    }

    /// Splits a watch response's body into lines on the loop; counts each, or each that decodes
    /// (and patches for each modified TaskAction, given a patcher).
    final class LineHandler: ChannelInboundHandler, @unchecked Sendable {  // used on its channel's loop only
        typealias InboundIn = HTTPClientResponsePart

        let events: FloorBench.Counter
        let decode: Bool
        let patcher: Patcher?
        var lines = WatchLineDecoder()
        let decoder = FloorReaders.informerDecoder

        init(events: FloorBench.Counter, decode: Bool, patcher: Patcher?) {
            self.events = events
            self.decode = decode
            self.patcher = patcher
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .body(let buffer) = unwrapInboundIn(data) else { return }
            lines.append(buffer.readableBytesView)
            while let line = try? lines.nextLine() {
                guard decode else {
                    events.add()
                    continue
                }
                guard let event = try? WatchEventDecoder.typed(line, as: TaskAction.self, decoder: decoder) else { continue }
                events.add()
                if let patcher, case .modified(let object) = event { patcher.patch(watched: object.metadata.name ?? "") }
            }
        }
    }

    enum ReaderError: Error {
        case socket(Int32)
    }
}
