import KubeClient

/// The form a response takes, chosen from the request's `Accept` header the way
/// kube-apiserver's negotiation chooses it: the first clause the server can serve wins, and a
/// header with no such clause is 406.
enum ResponseForm: Equatable, Sendable {
    /// The object or list as stored, in JSON.
    case json
    /// The same in YAML (`application/yaml`).
    case yaml
    /// A `meta.k8s.io/v1` Table (`as=Table`), what `kubectl get` asks for.
    case table
    /// `PartialObjectMetadata` / `PartialObjectMetadataList` (`as=PartialObjectMetadata[List]`),
    /// what metadata-only informers ask for.
    case metadata
    /// Aggregated discovery (`as=APIGroupDiscoveryList;g=apidiscovery.k8s.io;v=v2`), on `/api`
    /// and `/apis` only.
    case aggregatedDiscovery

    /// The media types offered in the 406 message. Protobuf is not among them: the sandbox
    /// answers as a server without protobuf support does, so clients fall back to JSON.
    static let offered = "application/json, application/yaml"

    /// The content type of an aggregated discovery response, which clients check before
    /// decoding it as one.
    static let aggregatedDiscoveryType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Negotiates `accept`; `discovery` allows the aggregated discovery form.
    static func negotiate(_ accept: String, discovery: Bool = false) throws(APIError) -> ResponseForm {
        let clauses = accept.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if clauses.isEmpty { return .json }
        for clause in clauses {
            var parts = clause.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let type = parts.removeFirst().lowercased()
            var params: [String: String] = [:]
            for p in parts {
                let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2 { params[kv[0].lowercased()] = kv[1] }
            }
            if let form = form(type: type, params: params, discovery: discovery) { return form }
        }
        throw APIError(code: 406, reason: "NotAcceptable", message: "only the following media types are accepted: \(offered)")
    }

    private static func form(type: String, params: [String: String], discovery: Bool) -> ResponseForm? {
        let isJSON = ["application/json", "application/*", "*/*"].contains(type)
        guard let kind = params["as"] else {
            if isJSON { return .json }
            return type == "application/yaml" ? .yaml : nil
        }
        guard type == "application/json" else { return nil }
        switch (kind, params["g"], params["v"]) {
        case ("Table", "meta.k8s.io", "v1"), ("Table", "meta.k8s.io", "v1beta1"):
            return discovery ? nil : .table
        case ("PartialObjectMetadata", "meta.k8s.io", "v1"), ("PartialObjectMetadataList", "meta.k8s.io", "v1"):
            return discovery ? nil : .metadata
        case ("APIGroupDiscoveryList", "apidiscovery.k8s.io", "v2"):
            return discovery ? .aggregatedDiscovery : nil
        default:
            return nil
        }
    }

    /// `object` as `PartialObjectMetadata`.
    static func partialMetadata(_ object: JSONValue) -> JSONValue {
        ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
    }

    /// A response body in `form`: JSON, or YAML when asked for.
    static func body(_ status: Int, _ value: JSONValue, form: ResponseForm, headers: [(String, String)] = []) -> SandboxResponse {
        if form == .yaml, let text = try? value.yaml() {
            return .full(status: status, headers: [("Content-Type", "application/yaml")] + headers, body: Array(text.utf8))
        }
        return .json(status, value, headers: headers)
    }
}
