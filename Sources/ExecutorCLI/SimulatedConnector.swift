import FlyteIDL
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import KubeRuntime
import SwiftProtobuf

/// A connector service on loopback, for `executor dev` and the tests: it speaks Flyte's
/// `AsyncConnectorService` and `ConnectorMetadataService` over gRPC as flyte-sdk's connector
/// server does: CreateTask starts
/// a job and answers its id as `resource_meta` (JSON, as flyte-sdk's connectors encode their
/// `ResourceMeta`); GetTask reports the job's phase; DeleteTask cancels it; ListConnectors lists
/// the categories it was given.
///
/// A job's course comes from the task's connection configs, which the task template carries in
/// `custom`: `phases` lists the phases successive GetTask calls report (the last one repeats),
/// `message` is said with each, and on SUCCEEDED the job returns its inputs as outputs named
/// `o<i>` in input order, unless `outputs: none`. `failNext` makes the next calls of a method
/// fail with a gRPC code, as a connector that restarts or sheds load does.
public final class SimulatedConnector: Sendable {
    /// A job a CreateTask started.
    public struct Job: Sendable {
        public var create: Flyteidl2_Connector_CreateTaskRequest
        /// GetTask calls answered for it.
        public var gets = 0
        public var deleted = false
    }

    /// What ListConnectors answers; none answers UNIMPLEMENTED, as a connector that only runs tasks.
    public let categories: [Flyteidl2_Connector_TaskCategory]
    /// The jobs by id (`job-0001`, …).
    public let jobs = LockedBox<[String: Job]>([:])
    /// Method → codes the next calls of it fail with, in order.
    public let failNext = LockedBox<[String: [RPCError.Code]]>([:])
    /// Every call received, in order, as `Method` (failed ones too).
    public let calls = LockedBox<[String]>([])
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, any Error>
    /// `127.0.0.1:<port>`.
    public let endpoint: String

    private init(categories: [Flyteidl2_Connector_TaskCategory], server: GRPCServer<HTTP2ServerTransport.Posix>, serving: Task<Void, any Error>, endpoint: String) {
        self.categories = categories
        self.server = server
        self.serving = serving
        self.endpoint = endpoint
    }

    /// Starts a connector on a free loopback port, listing `categories` (task type, version).
    public static func start(categories: [(String, Int32)] = []) async throws -> SimulatedConnector {
        let service = Service()
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [service])
        let serving = Task { try await server.serve() }
        let port: Int
        do {
            guard let address = try await transport.listeningAddress.ipv4 else { throw RPCError(code: .internalError, message: "not listening on IPv4") }
            port = address.port
        } catch {
            serving.cancel()
            throw error
        }
        let connector = SimulatedConnector(categories: categories.map { name, version in .with { $0.name = name; $0.version = version } }, server: server, serving: serving, endpoint: "127.0.0.1:\(port)")
        service.connector.withLock { $0 = connector }
        return connector
    }

    /// Starts a connector listing `categories`, runs `body` with it, and stops it.
    public static func with<T>(categories: [(String, Int32)] = [], _ body: (SimulatedConnector) async throws -> T) async throws -> T {
        let connector = try await start(categories: categories)
        do {
            let result = try await body(connector)
            await connector.stop()
            return result
        } catch {
            await connector.stop()
            throw error
        }
    }

    /// Stops serving: calls in flight end, the port closes.
    public func stop() async {
        server.beginGracefulShutdown()
        serving.cancel()
        _ = await serving.result
    }

    /// The jobs' CreateTask requests, in job id order.
    public var creates: [Flyteidl2_Connector_CreateTaskRequest] {
        jobs.value.sorted { $0.key < $1.key }.map(\.value.create)
    }

    /// Counts the call and fails it when `failNext` says so.
    fileprivate func admit(_ method: String) throws {
        calls.withLock { $0.append(method) }
        let code = failNext.withLock { pending -> RPCError.Code? in
            guard var codes = pending[method], !codes.isEmpty else { return nil }
            let code = codes.removeFirst()
            pending[method] = codes
            return code
        }
        if let code { throw RPCError(code: code, message: "\(method) refused by the test") }
    }

    fileprivate func create(_ request: Flyteidl2_Connector_CreateTaskRequest) throws -> Flyteidl2_Connector_CreateTaskResponse {
        try admit("CreateTask")
        let id = jobs.withLock { jobs -> String in
            let id = String(format: "job-%04d", jobs.count + 1)
            jobs[id] = Job(create: request)
            return id
        }
        return .with { $0.resourceMeta = Data(#"{"job_id": "\#(id)"}"#.utf8) }
    }

    fileprivate func get(_ request: Flyteidl2_Connector_GetTaskRequest) throws -> Flyteidl2_Connector_GetTaskResponse {
        try admit("GetTask")
        let id = try Self.jobID(request.resourceMeta)
        guard let job = jobs.withLock({ jobs -> Job? in
            jobs[id]?.gets += 1
            return jobs[id]
        }) else { throw RPCError(code: .notFound, message: "no job \(id)") }
        let configs = job.create.connection.configs
        let phases = (configs["phases"] ?? "SUCCEEDED").split(separator: ",").map(String.init)
        let name = job.deleted ? "ABORTED" : phases[min(job.gets, phases.count) - 1]
        guard let phase = Self.phases[name] else { throw RPCError(code: .internalError, message: "no phase \(name)") }
        return .with {
            $0.resource.phase = phase
            $0.resource.message = configs["message"] ?? ""
            $0.resource.logLinks = [.with {
                $0.name = "Job \(id)"
                $0.uri = "https://connector.example/jobs/\(id)"
            }]
            if phase == .succeeded, configs["outputs"] != "none" {
                $0.resource.outputs.literals = job.create.inputs.literals.enumerated().map { index, named in
                    .with {
                        $0.name = "o\(index)"
                        $0.value = named.value
                    }
                }
            }
        }
    }

    fileprivate func delete(_ request: Flyteidl2_Connector_DeleteTaskRequest) throws -> Flyteidl2_Connector_DeleteTaskResponse {
        try admit("DeleteTask")
        let id = try Self.jobID(request.resourceMeta)
        let found = jobs.withLock { jobs -> Bool in
            guard jobs[id] != nil else { return false }
            jobs[id]?.deleted = true
            return true
        }
        guard found else { throw RPCError(code: .notFound, message: "no job \(id)") }
        return Flyteidl2_Connector_DeleteTaskResponse()
    }

    fileprivate func list() throws -> Flyteidl2_Connector_ListConnectorsResponse {
        try admit("ListConnectors")
        guard !categories.isEmpty else { throw RPCError(code: .unimplemented, message: "this connector does not list its task types") }
        return .with { $0.connectors = [.with { $0.name = "reference"; $0.supportedTaskCategories = categories }] }
    }

    static let phases: [String: Flyteidl2_Core_TaskExecution.Phase] = [
        "UNDEFINED": .undefined, "QUEUED": .queued, "RUNNING": .running, "SUCCEEDED": .succeeded, "ABORTED": .aborted,
        "FAILED": .failed, "INITIALIZING": .initializing, "WAITING_FOR_RESOURCES": .waitingForResources, "RETRYABLE_FAILED": .retryableFailed,
    ]

    static func jobID(_ meta: Data) throws -> String {
        guard let object = try? JSONSerialization.jsonObject(with: meta) as? [String: Any], let id = object["job_id"] as? String else {
            throw RPCError(code: .invalidArgument, message: "resource_meta is not a job handle: \(String(decoding: meta, as: UTF8.self))")
        }
        return id
    }

    /// The gRPC side: routes the four methods to the connector it belongs to.
    private final class Service: RegistrableRPCService {
        let connector = LockedBox<SimulatedConnector?>(nil)

        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            func unary<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>(_ method: MethodDescriptor, _ handle: @escaping @Sendable (SimulatedConnector, Request) throws -> Response) {
                router.registerHandler(forMethod: method, deserializer: ProtobufDeserializer<Request>(), serializer: ProtobufSerializer<Response>()) { [connector] request, _ in
                    let single = try await ServerRequest(stream: request)
                    guard let target = connector.value else { throw RPCError(code: .unavailable, message: "starting") }
                    return StreamingServerResponse(single: ServerResponse(message: try handle(target, single.message)))
                }
            }
            unary(MethodDescriptor(fullyQualifiedService: "flyteidl2.connector.AsyncConnectorService", method: "CreateTask")) { try $0.create($1) }
            unary(MethodDescriptor(fullyQualifiedService: "flyteidl2.connector.AsyncConnectorService", method: "GetTask")) { try $0.get($1) }
            unary(MethodDescriptor(fullyQualifiedService: "flyteidl2.connector.AsyncConnectorService", method: "DeleteTask")) { try $0.delete($1) }
            unary(MethodDescriptor(fullyQualifiedService: "flyteidl2.connector.ConnectorMetadataService", method: "ListConnectors")) { (connector, _: Flyteidl2_Connector_ListConnectorsRequest) in try connector.list() }
        }
    }
}
