import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Synchronization

/// The sandbox's listener on loopback: HTTP/1.1, plain or over TLS, and HTTP/2 where TLS
/// negotiates it (``KubeSandbox/Options/http2``). An HTTP/2 stream is turned into the same
/// request parts HTTP/1.1 yields, so one handler serves both.
final class HTTPServer: Sendable {
    let channel: any Channel
    let connections: ConnectionRegistry

    /// Binds and starts serving; `port` 0 picks a free port.
    static func start(host: String, port: Int, tls: NIOSSLContext?, http2: Bool, api: APIServer, tokens: TokenRegistry, maxBodyBytes: Int) async throws -> HTTPServer {
        let connections = ConnectionRegistry()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                @Sendable func http1(_ channel: any Channel) -> EventLoopFuture<Void> {
                    channel.eventLoop.makeCompletedFuture {
                        // No pipelining assistance: it stops reading while a response is in flight, so a
                        // watch whose client hung up would never see the EOF. Clients do not pipeline.
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(RequestHandler(api: api, tokens: tokens, tls: tls != nil, maxBodyBytes: maxBodyBytes))
                    }
                }
                @Sendable func h2(_ channel: any Channel) -> EventLoopFuture<Void> {
                    channel.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
                        stream.eventLoop.makeCompletedFuture {
                            try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                            try stream.pipeline.syncOperations.addHandler(RequestHandler(api: api, tokens: tokens, tls: true, maxBodyBytes: maxBodyBytes, stream: true))
                        }
                    }.map { _ in () }
                }
                connections.add(channel)
                guard let tls else { return http1(channel) }
                do {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
                return http2 ? channel.configureHTTP2SecureUpgrade(h2ChannelConfigurator: h2, http1ChannelConfigurator: http1) : http1(channel)
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return HTTPServer(channel: channel, connections: connections)
    }

    private init(channel: any Channel, connections: ConnectionRegistry) {
        self.channel = channel
        self.connections = connections
    }

    var port: Int { channel.localAddress?.port ?? 0 }

    /// Stops listening and drops every open connection, as a crashed API server would.
    func stop() async {
        try? await channel.close()
        await connections.closeAll()
    }
}

/// Open connections, so a stop can drop them all.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.channels.withLock { _ = $0.removeValue(forKey: id) }
        }
    }

    var count: Int { channels.withLock { $0.count } }

    func closeAll() async {
        let all = channels.withLock { Array($0.values) }
        for channel in all { try? await channel.close() }
    }
}

/// Collects one request, hands it to the API layer, and writes the answer, streaming watches.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: APIServer
    let tokens: TokenRegistry
    let tls: Bool
    let maxBodyBytes: Int
    /// On an HTTP/2 stream, whose channel's parent is the connection.
    let stream: Bool
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var tooLarge = false
    var task: Task<Void, Never>?

    init(api: APIServer, tokens: TokenRegistry, tls: Bool, maxBodyBytes: Int, stream: Bool = false) {
        self.stream = stream
        self.api = api
        self.tokens = tokens
        self.tls = tls
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > maxBodyBytes {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let user = authenticate(context: context, head: head)
            let request = SandboxRequest(method: head.method, uri: head.uri, headers: head.headers, body: body, user: user)
            body = []
            let channel = context.channel
            // An HTTP/2 stream ends with its response; the connection stays.
            let keepAlive = head.version.major >= 2 || head.isKeepAlive
            let version = head.version
            let api = self.api
            if tooLarge {
                Self.write(.error(APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(maxBodyBytes)")), to: channel, version: version, keepAlive: false)
                return
            }
            task = Self.serve(request, api: api, channel: channel, version: version, keepAlive: keepAlive)
        }
    }

    static func serve(_ request: SandboxRequest, api: APIServer, channel: any Channel, version: HTTPVersion, keepAlive: Bool) -> Task<Void, Never> {
        Task {
            let response = await api.handle(request)
            await send(response, to: channel, version: version, keepAlive: keepAlive)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()  // ends a watch whose client went away
        context.fireChannelInactive()
    }

    func authenticate(context: ChannelHandlerContext, head: HTTPRequestHead) -> SandboxUser? {
        if let auth = head.headers.first(name: "Authorization"), auth.hasPrefix("Bearer ") {
            return tokens.user(for: String(auth.dropFirst(7)))
        }
        // Over HTTP/2 the TLS handler is on the connection, the parent of this stream's channel.
        let connection = stream ? context.channel.parent ?? context.channel : context.channel
        if tls, let handler = try? connection.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let cert = handler.peerCertificate, let der = try? cert.toDERBytes()
        {
            return CertificateAuthority.user(der: der)
        }
        return tls ? nil : .admin("anonymous-http")
    }

    static func responseHead(status: Int, headers: [(String, String)], version: HTTPVersion, keepAlive: Bool, length: Int?) -> HTTPResponseHead {
        var h = HTTPHeaders(headers.filter { $0.0 != "Transfer-Encoding" })
        h.add(name: "Cache-Control", value: "no-cache, private")
        if let length { h.add(name: "Content-Length", value: String(length)) }
        if !keepAlive { h.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: h)
    }

    static func write(_ response: SandboxResponse, to channel: any Channel, version: HTTPVersion, keepAlive: Bool) {
        guard case .full(let status, let headers, let body) = response else { return }
        channel.write(HTTPServerResponsePart.head(responseHead(status: status, headers: headers, version: version, keepAlive: keepAlive, length: body.count)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    static func send(_ response: SandboxResponse, to channel: any Channel, version: HTTPVersion, keepAlive: Bool) async {
        switch response {
        case .full:
            write(response, to: channel, version: version, keepAlive: keepAlive)
        case .stream(let status, let headers, let chunks):
            do {
                try await channel.writeAndFlush(HTTPServerResponsePart.head(responseHead(status: status, headers: headers, version: version, keepAlive: keepAlive, length: nil)))
                for await chunk in chunks {
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk))))
                }
                try await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
                if !keepAlive { try await channel.close() }
            } catch {
                try? await channel.close()
            }
        }
    }
}
