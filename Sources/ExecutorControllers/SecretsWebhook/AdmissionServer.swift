import KubeClient
import KubeRuntime
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The HTTPS server the API server calls for admission: HTTP/1.1 with keep-alive, one route
/// (`POST /mutate--v1-pod`, Flyte's path) answered by `handle`. Every connection takes the TLS
/// context `tls` gives at that moment, so a rotated certificate is served without a restart.
final class AdmissionServer: Sendable {
    /// Flyte's path: controller-runtime's `/mutate-<group>-<version>-<kind>` for core/v1 Pods.
    static let path = "/mutate--v1-pod"
    /// kube-apiserver sends at most about 3 MiB (its request limit); more is not a review.
    static let maxBodyBytes = 3 * 1024 * 1024

    typealias Handler = @Sendable ([UInt8]) async -> (status: Int, body: [UInt8])

    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start(host: String, port: Int, tls: @escaping @Sendable () throws -> NIOSSLContext, handle: @escaping Handler, logger: Logger) async throws -> AdmissionServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let context: NIOSSLContext
                    do {
                        context = try tls()
                    } catch {
                        logger.error("webhook: no TLS certificate to serve", metadata: ["error": "\(error)"])
                        throw error
                    }
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(handle: handle))
                }
            }
            .bind(host: host, port: port).get()
        return AdmissionServer(channel: channel)
    }

    private init(channel: any Channel) { self.channel = channel }

    func stop() async {
        try? await channel.close()
    }

    final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let handle: Handler
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        var tooLarge = false

        init(handle: @escaping Handler) { self.handle = handle }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
                tooLarge = false
            case .body(var buffer):
                if body.count + buffer.readableBytes > AdmissionServer.maxBodyBytes {
                    tooLarge = true
                    body = []
                } else if !tooLarge {
                    body += buffer.readBytes(length: buffer.readableBytes) ?? []
                }
            case .end:
                guard let head else { return }
                self.head = nil
                let keepAlive = head.isKeepAlive
                let route = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
                if route != AdmissionServer.path {
                    return Self.write(context: context, status: 404, body: Array("not found\n".utf8), keepAlive: keepAlive)
                }
                if head.method != .POST {
                    return Self.write(context: context, status: 405, body: Array("method not allowed\n".utf8), keepAlive: keepAlive)
                }
                if tooLarge {
                    return Self.write(context: context, status: 413, body: Array("request body too large\n".utf8), keepAlive: false)
                }
                let request = body
                body = []
                let handle = self.handle
                let loop = context.eventLoop
                let bound = NIOLoopBound(context, eventLoop: loop)
                loop.makeFutureWithTask { await handle(request) }.whenSuccess { answer in
                    Self.write(context: bound.value, status: answer.status, body: answer.body, keepAlive: keepAlive, json: answer.status == 200)
                }
            }
        }

        static func write(context: ChannelHandlerContext, status: Int, body: [UInt8], keepAlive: Bool, json: Bool = false) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: json ? "application/json" : "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            let done = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
            if !keepAlive {
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                done.whenComplete { _ in bound.value.close(promise: nil) }
            }
        }
    }
}
