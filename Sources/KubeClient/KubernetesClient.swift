import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A client of one Kubernetes API server: typed calls for ``KubernetesObject`` types and
/// dynamic calls for any resource as ``JSONValue``.
///
/// One instance per process shares its connections across every caller; call
/// ``shutdown()`` before the process exits.
///
/// ```swift
/// let client = try KubernetesClient(configuration: .load())
/// let pod = try await client.get(Pod.self, name: "p1", namespace: "default")
/// for try await event in try await client.watch(Pod.self, namespace: "default") { ... }
/// ```
public final class KubernetesClient: Sendable {
    public let configuration: ClientConfiguration
    let transport: HTTPTransport
    let logger: Logger

    /// Called after every HTTP exchange (for metrics such as `rest_client_requests_total`).
    public typealias RequestObserver = @Sendable (RequestRecord) -> Void

    /// - Parameter clock: what retries wait on; tests pass a manual clock so they need no real time.
    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "kube-client"), observer: RequestObserver? = nil, clock: any RuntimeClock = SystemClock()) throws(KubeClientError) {
        self.configuration = configuration
        self.logger = logger
        self.transport = try HTTPTransport(configuration: configuration, observer: observer, clock: clock, logger: logger)
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async throws {
        try await transport.shutdown()
    }

    // MARK: - Dynamic calls

    /// Reads one object.
    public func get(_ resource: ResourceType, name: String, namespace: String? = nil, subresource: String? = nil) async throws -> JSONValue {
        try await object(.GET, resource.path(namespace: namespace, name: name, subresource: subresource))
    }

    /// Reads one page of a collection; `namespace` `nil` lists across all namespaces.
    public func list(_ resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> JSONValue {
        try await object(.GET, resource.path(namespace: namespace), query: options.query)
    }

    /// Creates an object; `namespace` defaults to the object's own.
    public func create(_ resource: ResourceType, _ object: JSONValue, namespace: String? = nil, options: WriteOptions = WriteOptions()) async throws -> JSONValue {
        let body = Self.stamped(object, resource)
        let ns = namespace ?? body.value(atPath: "metadata.namespace")?.stringValue
        return try await self.object(.POST, resource.path(namespace: ns), query: options.query, body: body.serialized())
    }

    /// Replaces an object (PUT). Send the whole object as read: `metadata.resourceVersion` makes
    /// this conditional, and a stale one is answered with 409 Conflict.
    public func update(_ resource: ResourceType, _ object: JSONValue, subresource: String? = nil, options: WriteOptions = WriteOptions()) async throws -> JSONValue {
        let body = Self.stamped(object, resource)
        let path = try Self.objectPath(resource, body, subresource: subresource)
        return try await self.object(.PUT, path, query: options.query, body: body.serialized())
    }

    /// Patches an object, or with `subresource: "status"` its status.
    public func patch(_ resource: ResourceType, name: String, namespace: String? = nil, _ patch: Patch, subresource: String? = nil, options: WriteOptions = WriteOptions()) async throws -> JSONValue {
        let request = Self.patchRequest(resource, name: name, namespace: namespace, patch, subresource: subresource, options: options)
        return try await object(.PATCH, request.path, query: request.query, body: request.body, contentType: patch.contentType)
    }

    /// Patches an object and decodes the server's answer as `type`, straight from its bytes:
    /// ``WrittenVersion`` when only the new resourceVersion matters.
    public func patch<T: Decodable>(_ resource: ResourceType, name: String, namespace: String? = nil, _ patch: Patch, subresource: String? = nil, options: WriteOptions = WriteOptions(), as type: T.Type) async throws -> T {
        let request = Self.patchRequest(resource, name: name, namespace: namespace, patch, subresource: subresource, options: options)
        let buffer = try await bytes(.PATCH, request.path, query: request.query, body: request.body, contentType: patch.contentType)
        return try Self.decode(T.self, from: buffer.readableBytesView)
    }

    static func patchRequest(_ resource: ResourceType, name: String, namespace: String?, _ patch: Patch, subresource: String?, options: WriteOptions) -> (path: String, query: [(String, String)], body: [UInt8]) {
        var query = options.query
        if case .apply(_, let manager, let force) = patch {
            query.removeAll { $0.0 == "fieldManager" }
            query.append(("fieldManager", manager))
            if force { query.append(("force", "true")) }
        }
        return (resource.path(namespace: namespace, name: name, subresource: subresource), query, patch.serialized(resource))
    }

    /// Deletes an object. Returns the object when it still exists (finalizers pending, or
    /// foreground deletion), otherwise the server's `Status`.
    @discardableResult
    public func delete(_ resource: ResourceType, name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()) async throws -> JSONValue {
        try await object(.DELETE, resource.path(namespace: namespace, name: name), body: options.body.serialized())
    }

    /// Deletes every object of a collection matching the selectors.
    public func deleteCollection(_ resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions(), deleteOptions: DeleteOptions = DeleteOptions()) async throws {
        _ = try await object(.DELETE, resource.path(namespace: namespace), query: options.query, body: deleteOptions.body.serialized())
    }

    /// Opens a watch; events are dynamic objects.
    public func watch(_ resource: ResourceType, namespace: String? = nil, options: WatchOptions = WatchOptions()) async throws -> WatchStream<JSONValue> {
        try await openWatch(resource, namespace: namespace, options: options, decode: WatchEventDecoder.dynamic)
    }

    /// Lists every page of a collection, `pageSize` items at a time.
    public func listAll(_ resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions(), pageSize: Int = 500) async throws -> (items: [JSONValue], resourceVersion: String) {
        var options = options
        options.limit = pageSize
        var items: [JSONValue] = []
        while true {
            let page = try await list(resource, namespace: namespace, options: options)
            items.append(contentsOf: page["items"]?.arrayValue ?? [])
            let next = page.value(atPath: "metadata.continue")?.stringValue ?? ""
            if next.isEmpty {
                return (items, page.value(atPath: "metadata.resourceVersion")?.stringValue ?? "")
            }
            options.continue = next
        }
    }

    // MARK: - Typed calls

    public func get<T: KubernetesObject>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T {
        try await typed(.GET, T.resourceType.path(namespace: namespace, name: name))
    }

    /// Reads the `/status` subresource.
    public func getStatus<T: KubernetesObject>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T {
        try await typed(.GET, T.resourceType.path(namespace: namespace, name: name, subresource: "status"))
    }

    public func list<T: KubernetesObject>(_ type: T.Type, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> ObjectList<T> {
        try await typed(.GET, T.resourceType.path(namespace: namespace), query: options.query)
    }

    /// Lists with a caller's decoder, so a cache can drop `managedFields` or unknown members
    /// while the bytes are read instead of after.
    public func list<T: KubernetesObject>(_ type: T.Type, namespace: String? = nil, options: ListOptions = ListOptions(), decoder: JSONBytesDecoder) async throws -> ObjectList<T> {
        let buffer = try await bytes(.GET, T.resourceType.path(namespace: namespace), query: options.query)
        do {
            return try decoder.decode(ObjectList<T>.self, from: buffer.readableBytesView)
        } catch {
            throw KubeClientError.decoding("\(T.self) list: \(error)")
        }
    }

    public func create<T: KubernetesObject>(_ object: T, namespace: String? = nil, options: WriteOptions = WriteOptions()) async throws -> T {
        let body = try Self.encode(object)
        return try await typed(.POST, T.resourceType.path(namespace: namespace ?? object.metadata.namespace), query: options.query, body: body)
    }

    /// Creates `object` and reads the answer with a caller's decoder: a controller that keeps
    /// the created object in place of its cache's copy reads it as that cache does (pruned,
    /// without managedFields), rather than building the parts it would drop.
    public func create<T: KubernetesObject>(_ object: T, namespace: String? = nil, options: WriteOptions = WriteOptions(), decoder: JSONBytesDecoder) async throws -> T {
        let body = try Self.encode(object)
        let buffer = try await bytes(.POST, T.resourceType.path(namespace: namespace ?? object.metadata.namespace), query: options.query, body: body)
        return try Self.decode(T.self, from: buffer.readableBytesView, with: decoder)
    }

    /// Replaces the object (PUT); conditional on `metadata.resourceVersion`. Typed models keep the
    /// fields they do not declare, so nothing read is lost.
    public func update<T: KubernetesObject>(_ object: T, options: WriteOptions = WriteOptions()) async throws -> T {
        let body = try Self.encode(object)
        return try await typed(.PUT, T.resourceType.path(namespace: object.metadata.namespace, name: try Self.name(of: object)), query: options.query, body: body)
    }

    /// Replaces the status through the `/status` subresource; other changes are ignored by the server.
    public func updateStatus<T: KubernetesObject>(_ object: T, options: WriteOptions = WriteOptions()) async throws -> T {
        let body = try Self.encode(object)
        return try await typed(.PUT, T.resourceType.path(namespace: object.metadata.namespace, name: try Self.name(of: object), subresource: "status"), query: options.query, body: body)
    }

    public func patch<T: KubernetesObject>(_ type: T.Type, name: String, namespace: String? = nil, _ patch: Patch, subresource: String? = nil, options: WriteOptions = WriteOptions()) async throws -> T {
        try await self.patch(T.resourceType, name: name, namespace: namespace, patch, subresource: subresource, options: options, as: T.self)
    }

    /// Deletes the object; see ``delete(_:name:namespace:options:)-(ResourceType,_,_,_)``.
    @discardableResult
    public func delete<T: KubernetesObject>(_ type: T.Type, name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()) async throws -> JSONValue {
        try await delete(T.resourceType, name: name, namespace: namespace, options: options)
    }

    public func watch<T: KubernetesObject>(_ type: T.Type, namespace: String? = nil, options: WatchOptions = WatchOptions(), decoder: JSONBytesDecoder = JSONBytesDecoder()) async throws -> WatchStream<T> {
        try await openWatch(T.resourceType, namespace: namespace, options: options) { try WatchEventDecoder.typed($0, as: T.self, decoder: decoder) }
    }

    // MARK: - Raw access

    /// Sends any request to the server and returns its status, headers and body; for paths the
    /// typed and dynamic calls do not cover (discovery, `/version`, `/healthz`), for other
    /// media types, and to read response headers such as `Warning`.
    public func raw(method: String, path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil, accept: String = "application/json") async throws -> RawResponse {
        let response = try await transport.send(method: HTTPMethod(rawValue: method), path: path, query: query, body: body, contentType: contentType, accept: accept)
        return RawResponse(status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: Array(buffer: response.body))
    }

    // MARK: - Internals

    func openWatch<T>(_ resource: ResourceType, namespace: String?, options: WatchOptions, decode: @escaping @Sendable (ArraySlice<UInt8>) throws -> WatchEvent<T>?) async throws -> WatchStream<T> {
        let (response, stream) = try await transport.stream(method: .GET, path: resource.path(namespace: namespace), query: options.query, silence: options.silence)
        guard let stream else { throw Self.apiError(response) }
        return WatchStream(response: stream, decode: decode, maxEventBytes: configuration.maxWatchEventBytes)
    }

    func bytes(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil) async throws -> ByteBuffer {
        let response = try await transport.send(method: method, path: path, query: query, body: body, contentType: contentType)
        guard (200..<300).contains(response.status) else { throw Self.apiError(response) }
        return response.body
    }

    func object(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil) async throws -> JSONValue {
        let buffer = try await bytes(method, path, query: query, body: body, contentType: contentType)
        do {
            return try JSONValue.parse(buffer.readableBytesView)
        } catch {
            throw KubeClientError.decoding("\(method) \(path): \(error)")
        }
    }

    func typed<T: Decodable>(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil) async throws -> T {
        let buffer = try await bytes(method, path, query: query, body: body)
        return try Self.decode(T.self, from: buffer.readableBytesView)
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>, with decoder: JSONBytesDecoder = JSONBytesDecoder()) throws -> T {
        do {
            return try decoder.decode(T.self, from: bytes)
        } catch {
            throw KubeClientError.decoding("\(T.self): \(error)")
        }
    }

    static func encode<T: KubernetesObject>(_ object: T) throws -> [UInt8] {
        do {
            return try JSONBytesEncoder.encode(object, stamping: (T.resourceType.apiVersion, T.resourceType.kind))
        } catch {
            throw KubeClientError.decoding("encoding \(T.self): \(error)")
        }
    }

    /// Fills in `apiVersion` and `kind` when the object lacks them.
    static func stamped(_ object: JSONValue, _ resource: ResourceType) -> JSONValue {
        var object = object
        if object["apiVersion"]?.stringValue?.isEmpty ?? true { object["apiVersion"] = .string(resource.apiVersion) }
        if object["kind"]?.stringValue?.isEmpty ?? true { object["kind"] = .string(resource.kind) }
        return object
    }

    static func name<T: KubernetesObject>(of object: T) throws -> String {
        guard let name = object.metadata.name, !name.isEmpty else {
            throw KubeClientError.decoding("\(T.self) has no metadata.name")
        }
        return name
    }

    static func objectPath(_ resource: ResourceType, _ object: JSONValue, subresource: String?) throws -> String {
        guard let name = object.value(atPath: "metadata.name")?.stringValue, !name.isEmpty else {
            throw KubeClientError.decoding("\(resource.kind) has no metadata.name")
        }
        return resource.path(namespace: object.value(atPath: "metadata.namespace")?.stringValue, name: name, subresource: subresource)
    }

    static func apiError(_ response: HTTPTransport.Response) -> KubeAPIError {
        let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init)
        return apiError(status: response.status, body: response.body.readableBytesView, retryAfter: retryAfter)
    }

    /// The server's `Status` from an error response's body, or one made from the HTTP status.
    static func apiError(status code: Int, body bytes: some Collection<UInt8>, retryAfter: Int? = nil) -> KubeAPIError {
        if let status = try? JSONBytesDecoder().decode(Status.self, from: bytes), status.kind == "Status" || status.reason != nil {
            return KubeAPIError(code: code, status: status, retryAfterSeconds: retryAfter)
        }
        let text = String(decoding: bytes.prefix(512), as: UTF8.self)
        let reason = HTTPResponseStatus(statusCode: code).reasonPhrase.replacingOccurrences(of: " ", with: "")
        return KubeAPIError(code: code, status: Status(message: text.isEmpty ? "HTTP \(code)" : text, reason: reason, code: code), retryAfterSeconds: retryAfter)
    }
}
