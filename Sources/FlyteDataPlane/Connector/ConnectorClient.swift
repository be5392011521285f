import FlyteIDL
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import SwiftProtobuf

/// A gRPC client of one connector deployment (Flyte's `AsyncConnectorService` and
/// `ConnectorMetadataService` at one endpoint): one HTTP/2 connection per resolved address,
/// kept open and shared by every call, as Flyte's executor keeps one `grpc.ClientConn` per
/// endpoint. Calls made before ``run()`` starts wait for it.
public final class ConnectorClient: Sendable {
    /// The endpoint as configured, e.g. `dns:///flyteconnector.flyte.svc:8000`.
    public let endpoint: String
    let client: GRPCClient<HTTP2ClientTransport.Posix>

    /// - Parameters:
    ///   - endpoint: `host:port`, `dns:///host:port`, `dns:host:port`, `[v6]:port` or
    ///     `unix:path` (as grpc-go dials them; the port defaults to 443).
    ///   - insecure: clear-text HTTP/2 (a connector inside the cluster); else TLS, trusting the
    ///     system's roots, as Flyte's.
    ///   - serviceConfig: a gRPC service config in JSON (Flyte's `defaultServiceConfig`, by
    ///     default `{"loadBalancingConfig": [{"round_robin":{}}]}`); nil or empty for gRPC's.
    public init(endpoint: String, insecure: Bool, serviceConfig: String? = nil) throws(ConnectorCallError) {
        self.endpoint = endpoint
        let target = try Self.target(endpoint)
        let config = try Self.serviceConfig(serviceConfig, endpoint: endpoint)
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: target,
                transportSecurity: insecure ? .plaintext : .tls,
                config: .defaults { transport in
                    // Flyte's keepalive: a dead or half-open connection is noticed within
                    // seconds by pings during calls, not after the kernel's TCP timeout.
                    transport.connection.keepalive = .init(time: .seconds(30), timeout: .seconds(10), allowWithoutCalls: false)
                },
                serviceConfig: config
            )
        } catch {
            throw ConnectorCallError(code: .invalidArgument, message: "connector \(endpoint): \(error)")
        }
        client = GRPCClient(transport: transport)
    }

    /// Whether a client can be made for `endpoint` with `serviceConfig`; throws what is wrong.
    public static func check(endpoint: String, serviceConfig: String?) throws(ConnectorCallError) {
        _ = try target(endpoint)
        _ = try Self.serviceConfig(serviceConfig, endpoint: endpoint)
    }

    private static func serviceConfig(_ json: String?, endpoint: String) throws(ConnectorCallError) -> ServiceConfig {
        guard let json, !json.isEmpty else { return ServiceConfig() }
        do {
            return try JSONDecoder().decode(ServiceConfig.self, from: Data(json.utf8))
        } catch {
            throw ConnectorCallError(code: .invalidArgument, message: "connector \(endpoint): defaultServiceConfig is not a gRPC service config: \(error)")
        }
    }

    /// Keeps the connections until ``shutdown()`` and the calls in flight end, or the task is
    /// cancelled.
    public func run() async throws {
        try await client.runConnections()
    }

    /// Stops taking calls; ``run()`` returns once those in flight end.
    public func shutdown() {
        client.beginGracefulShutdown()
    }

    /// `AsyncConnectorService.CreateTask`.
    public func createTask(_ request: Flyteidl2_Connector_CreateTaskRequest, timeout: Duration?) async throws(ConnectorCallError) -> Flyteidl2_Connector_CreateTaskResponse {
        try await call(ConnectorRPC.createTask, request, timeout: timeout)
    }

    /// `AsyncConnectorService.GetTask`.
    public func getTask(_ request: Flyteidl2_Connector_GetTaskRequest, timeout: Duration?) async throws(ConnectorCallError) -> Flyteidl2_Connector_GetTaskResponse {
        try await call(ConnectorRPC.getTask, request, timeout: timeout)
    }

    /// `AsyncConnectorService.DeleteTask`.
    public func deleteTask(_ request: Flyteidl2_Connector_DeleteTaskRequest, timeout: Duration?) async throws(ConnectorCallError) -> Flyteidl2_Connector_DeleteTaskResponse {
        try await call(ConnectorRPC.deleteTask, request, timeout: timeout)
    }

    /// `ConnectorMetadataService.ListConnectors`.
    public func listConnectors(timeout: Duration?) async throws(ConnectorCallError) -> Flyteidl2_Connector_ListConnectorsResponse {
        try await call(ConnectorRPC.listConnectors, Flyteidl2_Connector_ListConnectorsRequest(), timeout: timeout)
    }

    private func call<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>(_ method: MethodDescriptor, _ request: Request, timeout: Duration?) async throws(ConnectorCallError) -> Response {
        var options = CallOptions.defaults
        // grpc-go's default, which Flyte's calls have: a connector that cannot be reached
        // fails the call at once (UNAVAILABLE) instead of holding it until one can.
        options.waitForReady = false
        // Flyte's calls without a configured timeout have none; a reconcile worker must not
        // wait forever on a connector that accepted a call and went quiet.
        options.timeout = timeout ?? Self.longestCall
        do {
            return try await client.unary(request: ClientRequest(message: request), descriptor: method, serializer: ProtobufSerializer<Request>(), deserializer: ProtobufDeserializer<Response>(), options: options) { response in
                try response.message
            }
        } catch let error as RPCError {
            throw ConnectorCallError(code: error.code, message: "\(method.method) at \(endpoint): \(error.code): \(error.message)")
        } catch {
            throw ConnectorCallError(code: .unknown, message: "\(method.method) at \(endpoint): \(error)")
        }
    }

    /// The longest a call waits when no timeout is configured for it.
    public static let longestCall = Duration.seconds(300)

    /// grpc-go's dial targets, as Flyte's configs write them.
    static func target(_ endpoint: String) throws(ConnectorCallError) -> any ResolvableTarget {
        var rest = Substring(endpoint)
        for prefix in ["unix://", "unix:"] where rest.hasPrefix(prefix) {
            let path = rest.dropFirst(prefix.count)
            guard !path.isEmpty else { break }
            return .unixDomainSocket(path: String(path))
        }
        for prefix in ["dns:///", "dns:"] where rest.hasPrefix(prefix) {
            rest = rest.dropFirst(prefix.count)
            break
        }
        guard let (host, port) = Self.hostAndPort(rest) else {
            throw ConnectorCallError(code: .invalidArgument, message: "connector endpoint \"\(endpoint)\" is not host:port, dns:///host:port or unix:path")
        }
        return .dns(host: host, port: port)
    }

    private static func hostAndPort(_ text: Substring) -> (String, Int)? {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.isEmpty { return host.isEmpty ? nil : (String(host), 443) }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), (1...65535).contains(port), !host.isEmpty else { return nil }
            return (String(host), port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty, !host.contains("/") else { return nil }
        switch parts.count {
        case 1: return (String(host), 443)
        case 2:
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return (String(host), port)
        default: return nil
        }
    }
}

/// A connector call that failed: its gRPC status code and what was said.
public struct ConnectorCallError: Error, Sendable, CustomStringConvertible {
    public var code: RPCError.Code
    public var message: String

    public init(code: RPCError.Code, message: String) {
        self.code = code
        self.message = message
    }

    /// The connector could not be reached or did not answer in time (or shed load): the call
    /// says nothing about the task and may be made again.
    public var isTransient: Bool {
        code == .unavailable || code == .deadlineExceeded || code == .resourceExhausted
    }

    /// The job is not there (deleted, or never created).
    public var isNotFound: Bool { code == .notFound }
    /// The service does not have the method (a connector that does not list what it runs).
    public var isUnimplemented: Bool { code == .unimplemented }
    /// The code's name, as gRPC writes it (`unavailable`).
    public var codeName: String { "\(code)" }

    public var description: String { message }
}
