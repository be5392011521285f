import Foundation
import KubeClient
import NIOHTTP1

/// Routes REST requests to the store the way kube-apiserver's handler chain does.
struct APIServer: Sendable {
    let store: ObjectStore
    let faults: FaultInjector
    /// Refuse anonymous requests to everything but the health and version endpoints.
    let requiresAuthentication: Bool
    let clock: @Sendable () -> Date
    var authorization = KubeSandbox.Authorization.alwaysAllow
    /// Where `serviceaccounts/token` registers the tokens it issues.
    var tokens: TokenRegistry?
    /// Where successful writes are recorded, when ``KubeSandbox/Options/auditWrites`` asks.
    var audit: AuditLog?
    /// The mutating admission webhooks a create passes through.
    var webhooks = AdmissionWebhooks()

    /// Where a resource request points.
    struct Target {
        var def: ResourceDefinition
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    func handle(_ request: SandboxRequest) async -> SandboxResponse {
        let path = request.path
        let isPublic = ["/healthz", "/readyz", "/livez", "/version"].contains(path) || path.hasPrefix("/healthz/") || path.hasPrefix("/readyz/") || path.hasPrefix("/livez/")
        if requiresAuthentication, !isPublic, request.user == nil {
            return .error(APIError(code: 401, reason: "Unauthorized", message: "Unauthorized"))
        }
        var answerGate: AnswerGate?
        if !isPublic, let fault = await faults.take(method: request.method.rawValue, path: path, isWatch: request.query["watch"] == "true" || request.query["watch"] == "1") {
            if let latency = fault.latency { try? await Task.sleep(for: latency) }
            if let code = fault.code {
                return .error(APIError(code: code, reason: Self.reason(for: code), message: "injected fault: HTTP \(code)", retryAfterSeconds: fault.retryAfterSeconds))
            }
            answerGate = fault.answerGate
        }
        let response: SandboxResponse
        do {
            response = try await route(request)
        } catch let error as APIError {
            response = .error(error)
        } catch {
            response = .error(APIError(code: 500, reason: "InternalError", message: "\(error)"))
        }
        await answerGate?.pass()
        return response
    }

    static func reason(for code: Int) -> String {
        switch code {
        case 409: return "Conflict"
        case 410: return "Expired"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return ""
        }
    }

    func route(_ request: SandboxRequest) async throws -> SandboxResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        guard let first = parts.first else {
            return .json(200, ["paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"]])
        }
        switch first {
        case "healthz", "readyz", "livez":
            return .full(status: 200, headers: [("Content-Type", "text/plain")], body: Array("ok".utf8))
        case "version":
            return .json(200, Discovery.version())
        case "openapi":
            let defs = await store.allDefinitions()
            if parts.count == 2 && parts[1] == "v2" { return .json(200, Discovery.openAPIV2(defs)) }
            if parts.count == 2 && parts[1] == "v3" { return .json(200, Discovery.openAPIRoot(defs)) }
            if parts.count == 4 && parts[1] == "v3" && parts[2] == "api" { return .json(200, Discovery.openAPIDocument(group: "", version: parts[3], defs)) }
            if parts.count == 5 && parts[1] == "v3" && parts[2] == "apis" { return .json(200, Discovery.openAPIDocument(group: parts[3], version: parts[4], defs)) }
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
        case "api":
            if parts.count == 1 {
                if try ResponseForm.negotiate(request.accept, discovery: true) == .aggregatedDiscovery {
                    return .json(200, Discovery.aggregated(core: true, await store.allDefinitions()), contentType: ResponseForm.aggregatedDiscoveryType)
                }
                return .json(200, Discovery.coreVersions())
            }
            guard parts[1] == "v1" else { throw Self.notFoundPath }
            if parts.count == 2 { return .json(200, Discovery.resourceList(group: "", version: "v1", await store.allDefinitions())) }
            return try await resource(request, group: "", version: "v1", rest: Array(parts[2...]))
        case "apis":
            let defs = await store.allDefinitions()
            if parts.count == 1 {
                if try ResponseForm.negotiate(request.accept, discovery: true) == .aggregatedDiscovery {
                    return .json(200, Discovery.aggregated(core: false, defs), contentType: ResponseForm.aggregatedDiscoveryType)
                }
                return .json(200, Discovery.groupList(defs))
            }
            guard let entry = Discovery.groups(defs).first(where: { $0.name == parts[1] }) else { throw Self.notFoundPath }
            if parts.count == 2 { return .json(200, Discovery.group(entry.name, entry.versions)) }
            guard entry.versions.contains(parts[2]) else { throw Self.notFoundPath }
            if parts.count == 3 { return .json(200, Discovery.resourceList(group: parts[1], version: parts[2], defs)) }
            return try await resource(request, group: parts[1], version: parts[2], rest: Array(parts[3...]))
        default:
            throw Self.notFoundPath
        }
    }

    static let notFoundPath = APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    func target(group: String, version: String, rest: [String]) async throws -> Target {
        if rest.count >= 3, rest[0] == "namespaces", !["status", "finalize"].contains(rest[2]),
            let def = await store.definition(group: group, version: version, plural: rest[2]), def.type.namespaced
        {
            return Target(def: def, namespace: rest[1], name: rest.count > 3 ? rest[3] : nil, subresource: rest.count > 4 ? rest[4...].joined(separator: "/") : nil)
        }
        guard let def = await store.definition(group: group, version: version, plural: rest[0]) else { throw Self.notFoundPath }
        return Target(def: def, namespace: nil, name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2...].joined(separator: "/") : nil)
    }

    func resource(_ request: SandboxRequest, group: String, version: String, rest: [String]) async throws -> SandboxResponse {
        var request = request
        request.form = try ResponseForm.negotiate(request.accept)
        let t = try await target(group: group, version: version, rest: rest)
        let attributes = Self.attributes(request, t)
        try await authorize(request.user, attributes)
        let response = try await serve(request, t, attributes)
        if let audit, Self.writeVerbs.contains(attributes.verb), request.query["dryRun"] != "All", (200..<300).contains(response.status) {
            let name = attributes.name ?? (attributes.verb == "create" ? (try? parseBody(request))?.value(atPath: "metadata.name")?.stringValue : nil)
            audit.record(request, attributes: attributes, name: name, status: response.status)
        }
        return response
    }

    static let writeVerbs: Set<String> = ["create", "update", "patch", "delete", "deletecollection"]

    /// Serves an authorized request for a resource.
    func serve(_ request: SandboxRequest, _ t: Target, _ attributes: RequestAttributes) async throws -> SandboxResponse {
        if t.def.type.group == "authorization.k8s.io", t.def.type.plural == "selfsubjectaccessreviews", request.method == .POST {
            return .json(201, try await selfSubjectAccessReview(request.user, try parseBody(request)))
        }
        if t.subresource == "token", t.def.type.group.isEmpty, t.def.type.plural == "serviceaccounts", let name = t.name, request.method == .POST {
            return .json(201, try await tokenRequest(namespace: t.namespace ?? "", name: name, body: request.body.isEmpty ? [:] : try parseBody(request)))
        }
        if t.subresource == "binding", t.def.type.group.isEmpty, t.def.type.plural == "pods", let name = t.name, request.method == .POST {
            try await store.bind(t.def, namespace: t.namespace, name: name, binding: try parseBody(request))
            return .json(201, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": 201])
        }
        if let sub = t.subresource {
            if sub != "status" || !t.def.hasStatusSubresource {
                if ["log", "exec", "attach", "portforward", "proxy", "eviction", "binding", "ephemeralcontainers", "resize", "scale"].contains(sub) {
                    throw APIError.notImplemented("the sandbox does not implement the \(t.def.type.plural)/\(sub) subresource")
                }
                throw Self.notFoundPath
            }
        }
        let q = request.query
        let dryRun = q["dryRun"] == "All"
        switch request.method {
        case .GET:
            if let name = t.name {
                let object = try await store.get(t.def, namespace: t.namespace, name: name)
                return output(Presentation.render(object, as: t.def), request, t.def)
            }
            let labels = try Self.labels(q["labelSelector"])
            let fields = try Self.fields(q["fieldSelector"])
            try Selection.validate(fields, def: t.def)
            if q["watch"] == "true" || q["watch"] == "1" {
                try Self.validateWatchList(q)
                return await watch(request, t, labels: labels, fields: fields)
            }
            let limit = q["limit"].flatMap(Int.init)
            let page = try await store.list(t.def, namespace: t.namespace, labels: labels, fields: fields, limit: limit, continueToken: q["continue"], resourceVersion: q["resourceVersion"], match: q["resourceVersionMatch"])
            var meta: JSONValue = ["resourceVersion": .string(String(page.resourceVersion))]
            if let token = page.continueToken { meta["continue"] = .string(token) }
            if let remaining = page.remainingItemCount { meta["remainingItemCount"] = .int(remaining) }
            switch request.form {
            case .table:
                return .json(200, Presentation.table(page.items, t.def, listMeta: meta, includeObject: q["includeObject"], now: clock()))
            case .metadata:
                return .json(200, ["kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": .array(page.items.map(ResponseForm.partialMetadata))])
            default:
                break
            }
            // Built-in kinds' list items carry no apiVersion and kind, as kube-apiserver sends them.
            let items = t.def.schema == nil ? page.items.map { item -> JSONValue in
                var item = Presentation.render(item, as: t.def)
                item["apiVersion"] = nil
                item["kind"] = nil
                return item
            } : page.items.map { Presentation.render($0, as: t.def) }
            return ResponseForm.body(200, ["kind": .string(t.def.type.kind + "List"), "apiVersion": .string(t.def.type.apiVersion), "metadata": meta, "items": .array(items)], form: request.form)
        case .POST:
            guard t.name == nil else { throw APIError.methodNotAllowed("the server does not allow this method on the requested resource") }
            if t.def.type.namespaced && t.namespace == nil {
                throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
            }
            var body = try parseBody(request)
            try await checkOwnerReferences(request.user, body, attributes)
            if case .object = body {
                body = try await webhooks.mutate(t.def, namespace: t.namespace, object: body, user: request.user, dryRun: dryRun, store: store)
            }
            let written = try await store.create(t.def, namespace: t.namespace, body: body, dryRun: dryRun, fieldValidation: q["fieldValidation"], manager: try Self.fieldManager(request))
            return output(Presentation.render(written.object, as: t.def), request, t.def, status: 201, warnings: written.warnings)
        case .PUT:
            guard let name = t.name else { throw APIError.methodNotAllowed("the server does not allow this method on the requested resource") }
            let body = try parseBody(request)
            // Custom resources do not allow unconditional updates (built-ins such as Pods and
            // ConfigMaps do): a PUT must say which version it replaces.
            if t.def.crdName != nil, (body.value(atPath: "metadata.resourceVersion")?.stringValue ?? "").isEmpty {
                throw APIError.invalid(t.def, name, [.invalid("metadata.resourceVersion", .int(0), "must be specified for an update")])
            }
            let written = try await store.update(t.def, namespace: t.namespace, name: name, body: body, subresource: t.subresource, dryRun: dryRun, fieldValidation: q["fieldValidation"], manager: try Self.fieldManager(request))
            return output(Presentation.render(written.object, as: t.def), request, t.def, warnings: written.warnings)
        case .PATCH:
            guard let name = t.name else { throw APIError.methodNotAllowed("the server does not allow this method on the requested resource") }
            return try await patch(request, t, name: name, dryRun: dryRun)
        case .DELETE:
            let options: JSONValue? = request.body.isEmpty ? JSONValue?.none : try parseBody(request)
            var merged = options ?? [:]
            if let policy = q["propagationPolicy"] { merged["propagationPolicy"] = .string(policy) }
            if let name = t.name {
                let (object, removed) = try await store.delete(t.def, namespace: t.namespace, name: name, options: merged, dryRun: dryRun || options?["dryRun"] != nil)
                // 200 whether or not the object is gone yet; 202 only when it stays and the
                // client asked for cascading with orphanDependents=false (kube-apiserver keeps
                // that quirk). A custom resource gone at once answers a Status, as its storage
                // does not return deleted objects.
                let status = !removed && merged["orphanDependents"] == .bool(false) ? 202 : 200
                if removed && t.def.crdName != nil {
                    return .json(status, ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success",
                                          "details": ["name": .string(name), "group": .string(t.def.type.group), "kind": .string(t.def.type.plural), "uid": object.value(atPath: "metadata.uid") ?? ""]])
                }
                return output(Presentation.render(object, as: t.def), request, t.def, status: status)
            }
            let labels = try Self.labels(q["labelSelector"])
            let fields = try Self.fields(q["fieldSelector"])
            try Selection.validate(fields, def: t.def)
            let deleted = try await store.deleteCollection(t.def, namespace: t.namespace, labels: labels, fields: fields, options: merged)
            return .json(200, ["kind": .string(t.def.type.kind + "List"), "apiVersion": .string(t.def.type.apiVersion), "metadata": [:], "items": .array(deleted)])
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }

    func output(_ object: JSONValue, _ request: SandboxRequest, _ def: ResourceDefinition, status: Int = 200, warnings: [String] = []) -> SandboxResponse {
        let headers = warnings.map { ("Warning", "299 - \"\($0.replacingOccurrences(of: "\"", with: "\\\""))\"") }
        switch request.form {
        case .table:
            return .json(status, Presentation.table([object], def, listMeta: ["resourceVersion": object.value(atPath: "metadata.resourceVersion") ?? ""], includeObject: request.query["includeObject"], now: clock()), headers: headers)
        case .metadata:
            return .json(status, ResponseForm.partialMetadata(object), headers: headers)
        default:
            return ResponseForm.body(status, object, form: request.form, headers: headers)
        }
    }

    func parseBody(_ request: SandboxRequest) throws -> JSONValue {
        let type = request.contentType
        if type == "application/vnd.kubernetes.protobuf" { return try ProtobufBody.decode(request.body) }
        if type.contains("protobuf") { throw APIError.unsupportedMediaType(type) }
        if let value = try? JSONValue.parse(request.body) { return value }
        if type.isEmpty || type.contains("yaml") || type.contains("json") {
            if let value = try? JSONValue(yaml: String(decoding: request.body, as: UTF8.self)), case .object = value { return value }
        }
        throw APIError.badRequest("the body of the request could not be decoded as JSON or YAML")
    }

    /// The watch-list rules: `sendInitialEvents` needs `resourceVersionMatch=NotOlderThan` and
    /// `allowWatchBookmarks=true`; 422 otherwise, as kube-apiserver answers.
    static func validateWatchList(_ q: [String: String]) throws(APIError) {
        guard let send = q["sendInitialEvents"] else { return }
        var errors: [String] = []
        var causes: [StatusCause] = []
        if q["resourceVersionMatch"] != "NotOlderThan" {
            errors.append("resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
            causes.append(StatusCause(reason: "FieldValueForbidden", message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", field: "resourceVersionMatch"))
        }
        if send == "true", q["allowWatchBookmarks"] != "true" {
            errors.append("allowWatchBookmarks: Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true")
            causes.append(StatusCause(reason: "FieldValueForbidden", message: "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true", field: "allowWatchBookmarks"))
        }
        guard !errors.isEmpty else { return }
        let joined = errors.count == 1 ? errors[0] : "[\(errors.joined(separator: ", "))]"
        throw APIError(code: 422, reason: "Invalid", message: "ListOptions.meta.k8s.io \"\" is invalid: \(joined)", details: StatusDetails(group: "meta.k8s.io", kind: "ListOptions", causes: causes))
    }

    /// The field manager of a write: `fieldManager`, else the User-Agent up to its first `/`, as
    /// kube-apiserver defaults it. Longer than 128 bytes is a 422.
    static func fieldManager(_ request: SandboxRequest) throws(APIError) -> String {
        let manager = request.query["fieldManager"] ?? String((request.headers.first(name: "User-Agent") ?? "unknown").split(separator: "/", maxSplits: 1).first ?? "unknown")
        guard manager.utf8.count <= 128 else {
            throw APIError(code: 422, reason: "Invalid", message: "fieldManager: Too long: may not be more than 128 bytes",
                           details: StatusDetails(causes: [StatusCause(reason: "FieldValueTooLong", message: "Too long: may not be more than 128 bytes", field: "fieldManager")]))
        }
        return manager
    }

    func patch(_ request: SandboxRequest, _ t: Target, name: String, dryRun: Bool) async throws -> SandboxResponse {
        let type = request.contentType
        let fieldValidation = request.query["fieldValidation"]
        let def = t.def
        switch type {
        case "application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json":
            if type == "application/strategic-merge-patch+json" && def.schema != nil {
                throw APIError.unsupportedMediaType("\(type) is not supported for custom resources; use application/merge-patch+json")
            }
            let body = try parseBody(request)
            let manager = try Self.fieldManager(request)
            let written = try await store.patch(def, namespace: t.namespace, name: name, subresource: t.subresource, dryRun: dryRun, fieldValidation: fieldValidation, manager: manager) { current throws(APIError) in
                switch type {
                case "application/merge-patch+json": return Patching.mergePatch(current, body)
                case "application/json-patch+json": return try Patching.jsonPatch(current, body, def: def, name: name)
                default: return Patching.strategicMerge(current, body)
                }
            }
            return output(Presentation.render(written.object, as: def), request, def, warnings: written.warnings)
        case "application/apply-patch+yaml", "application/apply-patch+cbor":
            guard let manager = request.query["fieldManager"], !manager.isEmpty else {
                throw APIError.badRequest("PATCH /apply requires fieldManager")
            }
            _ = try Self.fieldManager(request)
            let body = try parseBody(request)
            let force = request.query["force"] == "true"
            let written = try await store.apply(def, namespace: t.namespace, name: name, subresource: t.subresource, config: body, manager: manager, force: force, dryRun: dryRun, fieldValidation: fieldValidation)
            return output(Presentation.render(written.object, as: def), request, def, status: written.created ? 201 : 200, warnings: written.warnings)
        default:
            throw APIError.unsupportedMediaType(type)
        }
    }

    func watch(_ request: SandboxRequest, _ t: Target, labels: LabelSelector, fields: FieldSelector) async -> SandboxResponse {
        var fields = fields
        if let name = t.name { fields.requirements.append(.init(field: "metadata.name", value: name)) }
        let bookmarks = request.query["allowWatchBookmarks"] == "true"
        let (id, registeredAt, frames) = await store.watch(t.def, namespace: t.namespace, labels: labels, fields: fields, resourceVersion: request.query["resourceVersion"], bookmarks: bookmarks, initialEvents: request.query["sendInitialEvents"] == "true")
        let timeout = request.query["timeoutSeconds"].flatMap(Int.init) ?? 1800
        let form = request.form
        let def = t.def
        let clock = self.clock
        let (chunks, continuation) = AsyncStream.makeStream(of: [UInt8].self)
        let delay = await faults.watchDelay(path: request.path)
        let pump = Task {
            var first = true
            for await frame in frames {
                if let delay, case .event(let type, _) = frame, delay.types?.contains(type) ?? true { try? await Task.sleep(for: delay.delay) }
                var line: JSONValue
                switch frame {
                case .event(let type, let object):
                    var shown = object
                    if form == .table && type != "BOOKMARK" {
                        shown = Presentation.table([object], def, listMeta: ["resourceVersion": object.value(atPath: "metadata.resourceVersion") ?? ""], includeObject: request.query["includeObject"], now: clock(), withColumns: first)
                        first = false
                    } else if form == .metadata {
                        shown = ResponseForm.partialMetadata(object)
                    }
                    line = ["type": .string(type), "object": shown]
                case .error(let status):
                    line = ["type": "ERROR", "object": ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": .string(status.message ?? ""), "reason": .string(status.reason ?? ""), "code": .int(Int64(status.code ?? 500))]]
                    if let details = status.details, let causes = details.causes {
                        line["object"]?["details"] = ["causes": .array(causes.map { ["reason": .string($0.reason ?? ""), "message": .string($0.message ?? "")] }), "retryAfterSeconds": .int(Int64(details.retryAfterSeconds ?? 0))]
                    }
                }
                var bytes = line.serialized()
                bytes.append(UInt8(ascii: "\n"))
                continuation.yield(bytes)
            }
            continuation.finish()
        }
        let store = self.store
        // "Moved" counts from the version the client asked to start after, when it gave one.
        let startedAt = request.query["resourceVersion"].flatMap { Int64($0) }.flatMap { $0 > 0 ? $0 : nil } ?? registeredAt
        let timer = Task {
            if bookmarks, let id, timeout > 2 {
                // kube-apiserver sends a last bookmark about 2 s before the timeout, so the
                // client resumes from a recent version even if nothing it selects changed.
                try await Task.sleep(for: .seconds(timeout - 2))
                await store.sendBookmark(to: id, ifMovedPast: startedAt)
                try await Task.sleep(for: .seconds(2))
            } else {
                try await Task.sleep(for: .seconds(timeout))
            }
            pump.cancel()
            continuation.finish()
        }
        continuation.onTermination = { _ in
            pump.cancel()
            timer.cancel()
        }
        return .stream(status: 200, headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")], chunks: chunks)
    }
}

extension APIServer {
    static func labels(_ text: String?) throws(APIError) -> LabelSelector {
        do { return try LabelSelector(parsing: text ?? "") } catch { throw .badRequest(error.message) }
    }

    static func fields(_ text: String?) throws(APIError) -> FieldSelector {
        do { return try FieldSelector(parsing: text ?? "") } catch { throw .badRequest(error.message) }
    }
}
