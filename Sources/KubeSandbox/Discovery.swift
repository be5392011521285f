import KubeClient

/// Discovery and OpenAPI documents, built from the resources currently served.
enum Discovery {
    /// The release whose behaviour the sandbox follows (issue 17 compared it with 1.36.2).
    static let kubernetesVersion = (major: "1", minor: "36", git: "v1.36.2-sandbox")

    static func version() -> JSONValue {
        [
            "major": .string(kubernetesVersion.major), "minor": .string(kubernetesVersion.minor),
            "gitVersion": .string(kubernetesVersion.git), "gitCommit": "sandbox", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "swift", "compiler": "swiftc", "platform": "linux/amd64",
        ]
    }

    static func coreVersions() -> JSONValue {
        ["kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]]]
    }

    /// Groups other than core, each with its served versions; the first version is preferred.
    static func groups(_ defs: [ResourceDefinition]) -> [(name: String, versions: [String])] {
        var order: [String] = []
        var versions: [String: [String]] = [:]
        for def in defs.sorted(by: { ($0.type.group, $0.type.version) < ($1.type.group, $1.type.version) }) where !def.type.group.isEmpty {
            if versions[def.type.group] == nil { order.append(def.type.group) }
            if !(versions[def.type.group] ?? []).contains(def.type.version) { versions[def.type.group, default: []].append(def.type.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    static func group(_ name: String, _ versions: [String]) -> JSONValue {
        let list: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": .array(list), "preferredVersion": list.first ?? .null]
    }

    static func groupList(_ defs: [ResourceDefinition]) -> JSONValue {
        var g: [JSONValue] = []
        for (name, versions) in groups(defs) {
            var entry = group(name, versions)
            entry["kind"] = nil
            entry["apiVersion"] = nil
            g.append(entry)
        }
        return ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(g)]
    }

    static func resourceList(group: String, version: String, _ defs: [ResourceDefinition]) -> JSONValue {
        var resources: [JSONValue] = []
        for def in defs.filter({ $0.type.group == group && $0.type.version == version }).sorted(by: { $0.type.plural < $1.type.plural }) {
            var r: JSONValue = [
                "name": .string(def.type.plural), "singularName": .string(def.singular), "namespaced": .bool(def.type.namespaced),
                "kind": .string(def.type.kind), "verbs": .array(def.verbs.map(JSONValue.string)),
            ]
            if !def.shortNames.isEmpty { r["shortNames"] = .array(def.shortNames.map(JSONValue.string)) }
            if !def.categories.isEmpty { r["categories"] = .array(def.categories.map(JSONValue.string)) }
            resources.append(r)
            if def.hasStatusSubresource {
                resources.append(["name": .string("\(def.type.plural)/status"), "singularName": "", "namespaced": .bool(def.type.namespaced), "kind": .string(def.type.kind), "verbs": ["get", "patch", "update"]])
            }
        }
        let gv = group.isEmpty ? version : "\(group)/\(version)"
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(gv), "resources": .array(resources)]
    }

    /// Aggregated discovery (`apidiscovery.k8s.io/v2`): every group, version and resource in one
    /// document, the core group on `/api` and the others on `/apis`, as kubectl 1.30+ and
    /// client-go ask for it.
    static func aggregated(core: Bool, _ defs: [ResourceDefinition]) -> JSONValue {
        func resources(_ group: String, _ version: String) -> [JSONValue] {
            defs.filter { $0.type.group == group && $0.type.version == version }.sorted { $0.type.plural < $1.type.plural }.map { def in
                let kind: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(def.type.kind)]
                var r: JSONValue = [
                    "resource": .string(def.type.plural), "responseKind": kind, "scope": .string(def.type.namespaced ? "Namespaced" : "Cluster"),
                    "singularResource": .string(def.singular), "verbs": .array(def.verbs.map(JSONValue.string)),
                ]
                if !def.shortNames.isEmpty { r["shortNames"] = .array(def.shortNames.map(JSONValue.string)) }
                if !def.categories.isEmpty { r["categories"] = .array(def.categories.map(JSONValue.string)) }
                if def.hasStatusSubresource {
                    r["subresources"] = [["subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]]]
                }
                return r
            }
        }
        var items: [JSONValue] = []
        if core {
            items.append(["metadata": ["creationTimestamp": .null], "versions": [["version": "v1", "resources": .array(resources("", "v1")), "freshness": "Current"]]])
        } else {
            for (name, versions) in groups(defs) {
                let listed: [JSONValue] = versions.map { ["version": .string($0), "resources": .array(resources(name, $0)), "freshness": "Current"] }
                items.append(["metadata": ["name": .string(name), "creationTimestamp": .null], "versions": .array(listed)])
            }
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": [:], "items": .array(items)]
    }

    /// The OpenAPI v2 (Swagger 2.0) document: every served path, and the schemas of custom
    /// resources under `definitions`, for clients that have not moved to v3.
    static func openAPIV2(_ defs: [ResourceDefinition]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var definitions: [String: JSONValue] = [:]
        for def in defs {
            let base = def.type.group.isEmpty ? "/api/\(def.type.version)" : "/apis/\(def.type.group)/\(def.type.version)"
            let collection = def.type.namespaced ? "\(base)/namespaces/{namespace}/\(def.type.plural)" : "\(base)/\(def.type.plural)"
            let gvk: JSONValue = ["group": .string(def.type.group), "version": .string(def.type.version), "kind": .string(def.type.kind)]
            let operation: JSONValue = ["x-kubernetes-group-version-kind": gvk, "responses": ["200": ["description": "OK"]]]
            paths[collection] = ["get": operation, "post": operation]
            paths[collection + "/{name}"] = ["get": operation, "put": operation, "patch": operation, "delete": operation]
            if var schema = def.schema {
                schema["x-kubernetes-group-version-kind"] = [gvk]
                definitions[schemaName(def)] = schema
            }
        }
        return [
            "swagger": "2.0", "info": ["title": "Kubernetes", "version": .string(kubernetesVersion.git)],
            "paths": .object(paths), "definitions": .object(definitions),
        ]
    }

    /// The OpenAPI name of a kind's schema: the group reversed, as `io.k8s.api.core.v1.Pod`
    /// and `org.flyte.v1.TaskAction`.
    static func schemaName(_ def: ResourceDefinition) -> String {
        "\(def.type.group.isEmpty ? "io.k8s.api.core" : def.type.group.split(separator: ".").reversed().joined(separator: ".")).\(def.type.version).\(def.type.kind)"
    }

    /// The OpenAPI v3 index: one document per group version.
    static func openAPIRoot(_ defs: [ResourceDefinition]) -> JSONValue {
        var paths: [String: JSONValue] = ["api/v1": ["serverRelativeURL": "/openapi/v3/api/v1"]]
        for (name, versions) in groups(defs) {
            for v in versions { paths["apis/\(name)/\(v)"] = ["serverRelativeURL": .string("/openapi/v3/apis/\(name)/\(v)")] }
        }
        return ["paths": .object(paths)]
    }

    /// A group version's OpenAPI v3 document: the object paths with the write verbs and their
    /// `fieldValidation` parameter (which tells kubectl to validate on the server), and the
    /// schemas of custom resources.
    static func openAPIDocument(group: String, version: String, _ defs: [ResourceDefinition]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        let parameters: JSONValue = [
            ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ["name": "fieldManager", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
        ]
        for def in defs where def.type.group == group && def.type.version == version {
            let gvk: JSONValue = ["group": .string(group), "version": .string(version), "kind": .string(def.type.kind)]
            let operation: JSONValue = ["x-kubernetes-group-version-kind": gvk, "parameters": parameters, "responses": ["200": ["description": "OK"]]]
            let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
            let path = def.type.namespaced ? "\(base)/namespaces/{namespace}/\(def.type.plural)/{name}" : "\(base)/\(def.type.plural)/{name}"
            let collection = def.type.namespaced ? "\(base)/namespaces/{namespace}/\(def.type.plural)" : "\(base)/\(def.type.plural)"
            paths[path] = ["get": operation, "put": operation, "patch": operation, "delete": operation]
            paths[collection] = ["get": operation, "post": operation]
            // Built-in schemas are left out: kubectl then uses the types compiled into it.
            if var schema = def.schema {
                schema["x-kubernetes-group-version-kind"] = [gvk]
                schemas[schemaName(def)] = schema
            }
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string(kubernetesVersion.git)],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }
}
