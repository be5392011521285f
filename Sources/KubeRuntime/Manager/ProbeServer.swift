import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz`: answers come from
/// closures evaluated per request, so it knows nothing of what it reports.
public final class ProbeServer: Sendable {
    /// One route's answer.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public typealias Route = @Sendable () -> Response

    let channel: any Channel

    /// Binds `address` (`:8080`, `127.0.0.1:0`, `[::1]:9000`) and serves `routes` by path.
    public static func start(address: String, routes: [String: Route]) async throws -> ProbeServer {
        let (host, port) = try parse(address: address)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler(routes: routes))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return ProbeServer(channel: channel)
    }

    private init(channel: any Channel) { self.channel = channel }

    /// The port bound, useful when asked for port 0.
    public var port: Int { channel.localAddress?.port ?? 0 }

    public func stop() async {
        try? await channel.close()
    }

    public struct AddressError: Error, CustomStringConvertible {
        public var address: String
        public var description: String { "bind address \"\(address)\" is not host:port (for example :8080 or 127.0.0.1:8080)" }
    }

    /// Splits `host:port`; an empty host means every interface.
    public static func parse(address: String) throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            throw AddressError(address: address)
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let routes: [String: ProbeServer.Route]
    var head: HTTPRequestHead?

    init(routes: [String: ProbeServer.Route]) { self.routes = routes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            let response: ProbeServer.Response
            if head.method != .GET && head.method != .HEAD {
                response = .init(status: 405, body: Array("method not allowed\n".utf8))
            } else if let route = routes[path] {
                response = route()
            } else {
                response = .init(status: 404, body: Array("not found\n".utf8))
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: response.contentType)
            headers.add(name: "Content-Length", value: String(response.body.count))
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
            if head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            }
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
