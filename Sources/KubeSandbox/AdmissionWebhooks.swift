import AsyncHTTPClient
import Foundation
import KubeClient
import NIOCore
import NIOSSL
import Synchronization

/// kube-apiserver's MutatingAdmissionWebhook plugin, for creates: every webhook of every
/// stored MutatingWebhookConfiguration (by configuration name, then in order) whose rules,
/// namespace selector and object selector match is sent an `AdmissionReview` over HTTPS,
/// trusting only its `caBundle` and checking the certificate names the host called
/// (`<service>.<namespace>.svc` for a Service), and its JSON patch is applied before the
/// object is stored. A webhook that refuses fails the create with its code (400 at least)
/// and `admission webhook "<name>" denied the request: <message>`; one that cannot be
/// called fails it with 500 when its failure policy is Fail, and is passed over when Ignore.
///
/// The sandbox has no cluster network: a Service a webhook names is reached on the loopback
/// port given to ``KubeSandbox/routeService(namespace:name:port:toLoopbackPort:)``, as
/// kube-proxy would route it to a ready endpoint. Not built: updates and deletes,
/// reinvocation, `matchConditions`, and validating webhooks.
final class AdmissionWebhooks: Sendable {
    static let definition = ResourceDefinition.builtin("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", namespaced: false)

    private let routes = Mutex<[String: Int]>([:])

    static func routeKey(namespace: String, name: String, port: Int) -> String { "\(namespace)/\(name):\(port)" }

    func route(namespace: String, name: String, port: Int, to loopbackPort: Int) {
        routes.withLock { $0[Self.routeKey(namespace: namespace, name: name, port: port)] = loopbackPort }
    }

    /// The object after every matching webhook has had its say, or the first refusal.
    func mutate(_ def: ResourceDefinition, namespace: String?, object: JSONValue, user: SandboxUser?, dryRun: Bool, store: ObjectStore) async throws(APIError) -> JSONValue {
        let configurations: [JSONValue]
        do {
            configurations = try await store.list(Self.definition, namespace: nil, labels: .everything, fields: FieldSelector(requirements: []), limit: nil, continueToken: nil, resourceVersion: nil, match: nil).items
        } catch {
            return object
        }
        var object = object
        let namespaceLabels = await namespaceLabels(namespace, store: store)
        for configuration in configurations.sorted(by: { ($0.value(atPath: "metadata.name")?.stringValue ?? "") < ($1.value(atPath: "metadata.name")?.stringValue ?? "") }) {
            for webhook in configuration["webhooks"]?.arrayValue ?? [] {
                guard Self.rulesMatch(webhook, def: def, operation: "CREATE"),
                    Self.selectorMatches(webhook["objectSelector"], labels: Self.labels(object["metadata"]?["labels"])),
                    !def.type.namespaced || Self.selectorMatches(webhook["namespaceSelector"], labels: namespaceLabels)
                else { continue }
                object = try await call(webhook, def: def, namespace: namespace, object: object, user: user, dryRun: dryRun)
            }
        }
        return object
    }

    private func namespaceLabels(_ namespace: String?, store: ObjectStore) async -> [String: String] {
        guard let namespace, let object = try? await store.get(ResourceDefinition.namespaces, namespace: nil, name: namespace) else { return [:] }
        var labels = Self.labels(object["metadata"]?["labels"])
        // The label kube-apiserver sets on every namespace.
        labels["kubernetes.io/metadata.name"] = namespace
        return labels
    }

    static func labels(_ value: JSONValue?) -> [String: String] {
        var labels: [String: String] = [:]
        for (key, value) in value?.objectValue ?? [:] { if let text = value.stringValue { labels[key] = text } }
        return labels
    }

    /// A rule matches when its operations, groups, versions and resources each hold the
    /// request's or `*`, and its scope allows the resource's.
    static func rulesMatch(_ webhook: JSONValue, def: ResourceDefinition, operation: String) -> Bool {
        (webhook["rules"]?.arrayValue ?? []).contains { rule in
            func holds(_ field: String, _ value: String) -> Bool {
                (rule[field]?.arrayValue ?? []).contains { $0.stringValue == value || $0.stringValue == "*" }
            }
            let scope = rule["scope"]?.stringValue ?? "*"
            let scoped = scope == "*" || (scope == "Namespaced") == def.type.namespaced
            return holds("operations", operation) && holds("apiGroups", def.type.group) && holds("apiVersions", def.type.version) && holds("resources", def.type.plural) && scoped
        }
    }

    /// A `metav1.LabelSelector`: every `matchLabels` pair and every `matchExpressions` term.
    /// None, or an empty one, matches everything.
    static func selectorMatches(_ selector: JSONValue?, labels: [String: String]) -> Bool {
        guard let selector else { return true }
        for (key, value) in selector["matchLabels"]?.objectValue ?? [:] where labels[key] != value.stringValue { return false }
        for expression in selector["matchExpressions"]?.arrayValue ?? [] {
            let key = expression["key"]?.stringValue ?? ""
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            let value = labels[key]
            switch expression["operator"]?.stringValue {
            case "In": if !(value.map(values.contains) ?? false) { return false }
            case "NotIn": if value.map(values.contains) ?? false { return false }
            case "Exists": if value == nil { return false }
            case "DoesNotExist": if value != nil { return false }
            default: return false
            }
        }
        return true
    }

    private func call(_ webhook: JSONValue, def: ResourceDefinition, namespace: String?, object: JSONValue, user: SandboxUser?, dryRun: Bool) async throws(APIError) -> JSONValue {
        let name = webhook["name"]?.stringValue ?? ""
        let failOpen = webhook["failurePolicy"]?.stringValue == "Ignore"
        let versions = (webhook["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
        let version = versions.first { $0 == "v1" || $0 == "v1beta1" } ?? "v1"
        let uid = UUID().uuidString.lowercased()
        let review: JSONValue = [
            "apiVersion": .string("admission.k8s.io/\(version)"), "kind": "AdmissionReview",
            "request": [
                "uid": .string(uid),
                "kind": ["group": .string(def.type.group), "version": .string(def.type.version), "kind": .string(def.type.kind)],
                "resource": ["group": .string(def.type.group), "version": .string(def.type.version), "resource": .string(def.type.plural)],
                "requestKind": ["group": .string(def.type.group), "version": .string(def.type.version), "kind": .string(def.type.kind)],
                "requestResource": ["group": .string(def.type.group), "version": .string(def.type.version), "resource": .string(def.type.plural)],
                "name": object.value(atPath: "metadata.name") ?? "",
                "namespace": namespace.map(JSONValue.string) ?? .null,
                "operation": "CREATE",
                "userInfo": ["username": .string(user?.name ?? "system:anonymous"), "groups": .array((user?.groups ?? []).map(JSONValue.string))],
                "object": object,
                "oldObject": .null,
                "dryRun": .bool(dryRun),
                "options": ["apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"],
            ],
        ]
        let answer: JSONValue
        do {
            answer = try await post(review, webhook: webhook)
        } catch {
            if failOpen { return object }
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: failed calling webhook \"\(name)\": failed to call webhook: \(error)")
        }
        guard let response = answer["response"], response["uid"]?.stringValue == uid else {
            if failOpen { return object }
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: failed calling webhook \"\(name)\": expected response.uid=\"\(uid)\", got \"\(answer.value(atPath: "response.uid")?.stringValue ?? "")\"")
        }
        guard response["allowed"]?.boolValue == true else {
            let status = response["status"]
            let code = max(400, Int(status?["code"]?.intValue ?? 0))
            let detail = status?["message"]?.stringValue ?? status?["reason"]?.stringValue ?? ""
            let message = detail.isEmpty ? "admission webhook \"\(name)\" denied the request without explanation" : "admission webhook \"\(name)\" denied the request: \(detail)"
            throw APIError(code: code, reason: status?["reason"]?.stringValue ?? "", message: message)
        }
        guard let encoded = response["patch"]?.stringValue else { return object }
        guard response["patchType"]?.stringValue == "JSONPatch", let bytes = Data(base64Encoded: encoded), let operations = try? JSONValue.parse(Array(bytes)) else {
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: failed calling webhook \"\(name)\": the patch is not a base64 JSONPatch")
        }
        do {
            return try Patching.jsonPatch(object, operations, def: def, name: object.value(atPath: "metadata.name")?.stringValue ?? "")
        } catch {
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: JSON Patch: \(error.status.message ?? "")")
        }
    }

    struct CallFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Posts the review where the webhook's client configuration points, trusting its
    /// `caBundle` (the system's roots when it has none) and nothing else.
    private func post(_ review: JSONValue, webhook: JSONValue) async throws -> JSONValue {
        let client = webhook["clientConfig"]
        var tls = TLSConfiguration.makeClientConfiguration()
        if let bundle = client?["caBundle"]?.stringValue, let pem = Data(base64Encoded: bundle) {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem)))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        let url: String
        if let service = client?["service"] {
            let namespace = service["namespace"]?.stringValue ?? ""
            let name = service["name"]?.stringValue ?? ""
            let port = Int(service["port"]?.intValue ?? 443)
            let host = "\(name).\(namespace).svc"
            guard let target = routes.withLock({ $0[Self.routeKey(namespace: namespace, name: name, port: port)] }) else {
                throw CallFailure(description: "Post \"https://\(host):\(port)\(service["path"]?.stringValue ?? "")\": service \"\(name)\" not found")
            }
            configuration.dnsOverride = [host: "127.0.0.1"]
            url = "https://\(host):\(target)\(service["path"]?.stringValue ?? "")"
        } else if let direct = client?["url"]?.stringValue {
            url = direct
        } else {
            throw CallFailure(description: "the webhook has neither url nor service")
        }
        let timeout = Int64(webhook["timeoutSeconds"]?.intValue ?? 10)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url + (url.contains("?") ? "&" : "?") + "timeout=\(timeout)s")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: review.serialized()))
            let response = try await http.execute(request, timeout: .seconds(timeout))
            let body = try await response.body.collect(upTo: 3 * 1024 * 1024)
            guard response.status.code == 200 else {
                throw CallFailure(description: "the server responded with HTTP \(response.status.code): \(String(buffer: body))")
            }
            let answer = try JSONValue.parse(Array(buffer: body))
            try await http.shutdown()
            return answer
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

extension AdmissionWebhooks {
    /// A MutatingWebhookConfiguration as kube-apiserver defaults it (`admissionregistration/v1`
    /// defaults): failure policy Fail, match policy Equivalent, empty selectors, 10 s, no
    /// reinvocation, rules of any scope, Service port 443.
    static func defaulted(_ configuration: JSONValue) -> JSONValue {
        guard let webhooks = configuration["webhooks"]?.arrayValue else { return configuration }
        var configuration = configuration
        configuration["webhooks"] = .array(webhooks.map { webhook in
            var webhook = webhook
            if webhook["failurePolicy"] == nil { webhook["failurePolicy"] = "Fail" }
            if webhook["matchPolicy"] == nil { webhook["matchPolicy"] = "Equivalent" }
            if webhook["namespaceSelector"] == nil { webhook["namespaceSelector"] = [:] }
            if webhook["objectSelector"] == nil { webhook["objectSelector"] = [:] }
            if webhook["timeoutSeconds"] == nil { webhook["timeoutSeconds"] = 10 }
            if webhook["reinvocationPolicy"] == nil { webhook["reinvocationPolicy"] = "Never" }
            if let rules = webhook["rules"]?.arrayValue {
                webhook["rules"] = .array(rules.map { rule in
                    var rule = rule
                    if rule["scope"] == nil { rule["scope"] = "*" }
                    return rule
                })
            }
            if webhook["clientConfig"]?["service"] != nil, webhook["clientConfig"]?["service"]?["port"] == nil {
                webhook["clientConfig"]?["service"]?["port"] = 443
            }
            return webhook
        })
        return configuration
    }

    /// kube-apiserver's checks of a MutatingWebhookConfiguration that a webhook client can
    /// get wrong: names, side effects, review versions, timeout, and where to call.
    static func validate(_ configuration: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        var names: Set<String> = []
        for (i, webhook) in (configuration["webhooks"]?.arrayValue ?? []).enumerated() {
            let path = "webhooks[\(i)]"
            let name = webhook["name"]?.stringValue ?? ""
            if name.isEmpty {
                errors.append(.required("\(path).name"))
            } else if name.split(separator: ".").count < 3 || !LabelSyntax.isDNSSubdomain(name) {
                errors.append(.invalid("\(path).name", .string(name), "should be a domain with at least three segments separated by dots"))
            } else if !names.insert(name).inserted {
                errors.append(FieldError(field: "\(path).name", reason: "FieldValueDuplicate", detail: "Duplicate value: \"\(name)\""))
            }
            let sideEffects = webhook["sideEffects"]?.stringValue ?? ""
            if !["None", "NoneOnDryRun"].contains(sideEffects) {
                errors.append(FieldError(field: "\(path).sideEffects", reason: sideEffects.isEmpty ? "FieldValueRequired" : "FieldValueNotSupported",
                                         detail: sideEffects.isEmpty ? "Required value" : "Unsupported value: \"\(sideEffects)\": supported values: \"None\", \"NoneOnDryRun\""))
            }
            let versions = (webhook["admissionReviewVersions"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !versions.contains(where: { $0 == "v1" || $0 == "v1beta1" }) {
                errors.append(FieldError(field: "\(path).admissionReviewVersions", reason: versions.isEmpty ? "FieldValueRequired" : "FieldValueInvalid",
                                         detail: versions.isEmpty ? "Required value: must specify one of v1, v1beta1" : "Invalid value: must include at least one of v1, v1beta1"))
            }
            if let timeout = webhook["timeoutSeconds"]?.intValue, !(1...30).contains(timeout) {
                errors.append(.invalid("\(path).timeoutSeconds", .int(timeout), "the timeout value must be between 1 and 30 seconds"))
            }
            if let policy = webhook["failurePolicy"]?.stringValue, !["Fail", "Ignore"].contains(policy) {
                errors.append(FieldError(field: "\(path).failurePolicy", reason: "FieldValueNotSupported", detail: "Unsupported value: \"\(policy)\": supported values: \"Fail\", \"Ignore\""))
            }
            let client = webhook["clientConfig"]
            if (client?["url"] == nil) == (client?["service"] == nil) {
                errors.append(FieldError(field: "\(path).clientConfig", reason: "FieldValueRequired", detail: "Required value: exactly one of url or service is required"))
            }
        }
        return errors
    }
}
