import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server on 127.0.0.1 for tests that need a real peer: every request is
/// handed, whole, to `respond`, whose answer is written back.
final class LoopbackHTTPServer: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
    }

    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }
    var url: String { "http://127.0.0.1:\(port)" }

    init(respond: @escaping @Sendable (Request) async -> Response) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(respond: respond))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
    }

    func stop() async {
        try? await channel.close()
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let respond: @Sendable (Request) async -> Response
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(respond: @escaping @Sendable (Request) async -> Response) {
            self.respond = respond
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, path: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
                let respond = self.respond
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                let keepAlive = head.isKeepAlive
                Task {
                    let response = await respond(request)
                    loop.execute {
                        let context = bound.value
                        var headers = HTTPHeaders(response.headers)
                        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
                        let responseHead = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
                        context.write(NIOAny(HTTPServerResponsePart.head(responseHead)), promise: nil)
                        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
                        let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
                        if !keepAlive {
                            done.whenComplete { _ in bound.value.close(promise: nil) }
                        }
                    }
                }
            }
        }
    }
}
