import Foundation
import KubeClient

/// What kube-apiserver's decoding, defaulting, strategies and validation do to an incoming
/// object, for the kinds the sandbox serves.
enum Admission {
    /// Checks the body is an object of the right kind and that its name and namespace agree
    /// with the URL; sets `apiVersion` to the version addressed.
    static func checkIdentity(_ def: ResourceDefinition, body: JSONValue, urlNamespace: String?, urlName: String?) throws(APIError) -> JSONValue {
        guard case .object = body else { throw .badRequest("the body of the request must be a JSON or YAML object") }
        var object = body
        guard let kind = object["kind"]?.stringValue, !kind.isEmpty else {
            throw .badRequest("Object 'Kind' is missing in '\(String(body.description.prefix(200)))'")
        }
        guard kind == def.type.kind else {
            throw .badRequest("the kind in the data (\(kind)) does not match the expected kind (\(def.type.kind))")
        }
        if let apiVersion = object["apiVersion"]?.stringValue, !apiVersion.isEmpty {
            let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
            guard group == def.type.group else {
                throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(def.type.apiVersion))")
            }
        } else {
            throw .badRequest("Object 'apiVersion' is missing in '\(String(body.description.prefix(200)))'")
        }
        object["apiVersion"] = .string(def.type.apiVersion)
        if object["metadata"]?.objectValue == nil { object["metadata"] = [:] }
        if def.type.namespaced, let urlNamespace, let bodyNamespace = object.value(atPath: "metadata.namespace")?.stringValue,
            !bodyNamespace.isEmpty, bodyNamespace != urlNamespace
        {
            throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        if let urlName, let bodyName = object.value(atPath: "metadata.name")?.stringValue, bodyName != urlName {
            throw .badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(urlName))")
        }
        if let urlName, object.value(atPath: "metadata.name") == nil { object["metadata"]?["name"] = .string(urlName) }
        return object
    }

    /// Resets status and fills defaults on create, per kind.
    static func prepareForCreate(_ def: ResourceDefinition, _ object: JSONValue, now: Date) throws(APIError) -> JSONValue {
        var object = object
        switch (def.type.group, def.type.plural) {
        case ("", "pods"):
            object["status"] = ["phase": "Pending", "qosClass": .string(qosClass(object))]
            var spec = object["spec"] ?? [:]
            if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
            if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
            if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = "default" }
            if spec["terminationGracePeriodSeconds"] == nil { spec["terminationGracePeriodSeconds"] = 30 }
            if spec["dnsPolicy"] == nil { spec["dnsPolicy"] = "ClusterFirst" }
            if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = true }
            if spec["securityContext"] == nil { spec["securityContext"] = [:] }
            spec["serviceAccount"] = spec["serviceAccountName"]
            // The Priority admission plugin, with no priority class: the global default.
            if spec["priority"] == nil { spec["priority"] = 0 }
            if spec["preemptionPolicy"] == nil { spec["preemptionPolicy"] = "PreemptLowerPriority" }
            spec["tolerations"] = .array(defaultTolerations(spec["tolerations"]?.arrayValue ?? []))
            if let containers = spec["containers"]?.arrayValue {
                spec["containers"] = .array(containers.map(defaultContainer))
            }
            spec = mountServiceAccountToken(spec)
            object["spec"] = spec
        case ("", "namespaces"):
            object["status"] = ["phase": "Active"]
            if object.value(atPath: "spec.finalizers") == nil { object["spec"] = ["finalizers": ["kubernetes"]] }
            var labels = object.value(atPath: "metadata.labels") ?? [:]
            labels["kubernetes.io/metadata.name"] = object.value(atPath: "metadata.name")
            object["metadata"]?["labels"] = labels
        case ("", "secrets"):
            if object["type"] == nil { object["type"] = "Opaque" }
        case ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"):
            object = AdmissionWebhooks.defaulted(object)
        case ("", "services"):
            var spec = object["spec"] ?? [:]
            if spec["type"] == nil { spec["type"] = "ClusterIP" }
            if spec["clusterIP"] == nil { spec["clusterIP"] = .string("10.96.\(Int.random(in: 1...254)).\(Int.random(in: 1...254))") }
            spec = defaultServicePorts(spec)
            object["spec"] = spec
            object["status"] = ["loadBalancer": [:]]
        default:
            if def.schema != nil, def.hasStatusSubresource { object["status"] = nil }
        }
        return object
    }

    /// Enforces immutability rules on update, per kind.
    /// A Service's ports as the API server defaults them on every write: protocol TCP, and
    /// targetPort equal to port.
    static func defaultServicePorts(_ spec: JSONValue) -> JSONValue {
        guard let ports = spec["ports"]?.arrayValue else { return spec }
        var spec = spec
        spec["ports"] = .array(ports.map { port in
            var port = port
            if port["protocol"] == nil { port["protocol"] = "TCP" }
            if port["targetPort"] == nil { port["targetPort"] = port["port"] }
            return port
        })
        return spec
    }

    static func prepareForUpdate(_ def: ResourceDefinition, _ next: JSONValue, old: JSONValue) throws(APIError) -> JSONValue {
        if def.type.group == "admissionregistration.k8s.io" && def.type.plural == "mutatingwebhookconfigurations" {
            return AdmissionWebhooks.defaulted(next)
        }
        if def.type.group.isEmpty && def.type.plural == "services", let spec = next["spec"] {
            var next = next
            next["spec"] = defaultServicePorts(spec)
            return next
        }
        if def.type.group.isEmpty && def.type.plural == "pods" {
            func mutableStripped(_ spec: JSONValue?) -> JSONValue? {
                guard var spec else { return nil }
                spec["activeDeadlineSeconds"] = nil
                spec["tolerations"] = nil
                spec["terminationGracePeriodSeconds"] = nil
                if let containers = spec["containers"]?.arrayValue {
                    spec["containers"] = .array(containers.map { var c = $0; c["image"] = nil; return c })
                }
                return spec
            }
            if mutableStripped(next["spec"]) != mutableStripped(old["spec"]) {
                throw .invalid(def, next.value(atPath: "metadata.name")?.stringValue ?? "", [
                    .forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")
                ])
            }
        }
        return next
    }

    /// Field validation common to every kind, then per kind, then a CRD's schema.
    /// - Parameter old: the stored object on an update, for ratcheting and transition rules.
    static func validate(_ def: ResourceDefinition, _ object: JSONValue, name: String, creating: Bool = false, old: JSONValue? = nil) throws(APIError) {
        var errors: [FieldError] = []
        if EventStorage.isEvent(def) { errors += EventStorage.validate(object, through: def, creating: creating) }
        if def.type.group == "coordination.k8s.io" && def.type.plural == "leases" { errors += LeaseValidation.validate(object) }
        let isNamespace = def.type.group.isEmpty && def.type.plural == "namespaces"
        if isNamespace || def.type.plural == "services" {
            if !LabelSyntax.isDNSLabel(name) {
                errors.append(.invalid("metadata.name", .string(name), "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"))
            }
        } else if !LabelSyntax.isDNSSubdomain(name) {
            errors.append(.invalid("metadata.name", .string(name), "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
        }
        for (key, value) in object.value(atPath: "metadata.labels")?.objectValue ?? [:] {
            let keyName = key.split(separator: "/").last.map(String.init) ?? key
            if !LabelSyntax.isQualifiedNamePart(keyName) || key.split(separator: "/", omittingEmptySubsequences: false).count > 2 {
                errors.append(.invalid("metadata.labels", .string(key), "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
            }
            guard let text = value.stringValue else {
                errors.append(.invalid("metadata.labels", value, "label values must be strings"))
                continue
            }
            if !text.isEmpty && !LabelSyntax.isQualifiedNamePart(text) {
                errors.append(.invalid("metadata.labels", .string(text), "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"))
            }
        }
        for (_, value) in object.value(atPath: "metadata.annotations")?.objectValue ?? [:] where value.stringValue == nil {
            errors.append(.invalid("metadata.annotations", value, "annotation values must be strings"))
        }
        errors += validateOwnerReferences(object.value(atPath: "metadata.ownerReferences")?.arrayValue ?? [])
        for finalizer in object.value(atPath: "metadata.finalizers")?.arrayValue?.compactMap(\.stringValue) ?? [] where !isQualifiedName(finalizer) {
            errors.append(.invalid("metadata.finalizers", .string(finalizer), "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
        }
        if def.type.group.isEmpty && (def.type.plural == "configmaps" || def.type.plural == "secrets") {
            // The sum of the keys and values, as kube-apiserver counts it.
            var total = 0
            for (key, value) in object["data"]?.objectValue ?? [:] { total += key.utf8.count + (value.stringValue?.utf8.count ?? 0) }
            for (key, value) in object["binaryData"]?.objectValue ?? [:] { total += key.utf8.count + (value.stringValue?.utf8.count ?? 0) }
            if total > 1_048_576 {
                errors.append(FieldError(field: "[]", reason: "FieldValueTooLong", detail: "Too long: must have at most 1048576 bytes"))
            }
        }
        if def.type.group.isEmpty && def.type.plural == "pods" {
            let containers = object.value(atPath: "spec.containers")?.arrayValue ?? []
            if containers.isEmpty { errors.append(.required("spec.containers")) }
            for (i, c) in containers.enumerated() {
                if c["name"]?.stringValue?.isEmpty ?? true { errors.append(.required("spec.containers[\(i)].name")) }
                if c["image"]?.stringValue?.isEmpty ?? true { errors.append(.required("spec.containers[\(i)].image")) }
            }
            errors += Quantity.validate(pod: object)
            if let policy = object.value(atPath: "spec.restartPolicy")?.stringValue, !["Always", "OnFailure", "Never"].contains(policy) {
                errors.append(FieldError(field: "spec.restartPolicy", reason: "FieldValueNotSupported", detail: "Unsupported value: \"\(policy)\": supported values: \"Always\", \"OnFailure\", \"Never\""))
            }
        }
        if def.type.group.isEmpty && def.type.plural == "secrets" {
            for (key, value) in object["data"]?.objectValue ?? [:] where value.stringValue.flatMap({ Data(base64Encoded: $0) }) == nil {
                errors.append(.invalid("data[\(key)]", value, "illegal base64 data"))
            }
        }
        if def.type.group == "admissionregistration.k8s.io" && def.type.plural == "mutatingwebhookconfigurations" {
            errors += AdmissionWebhooks.validate(object)
        }
        if let schema = def.schema {
            errors += SchemaValidator.validate(object, schema: schema, old: old)
        }
        if !errors.isEmpty { throw .invalid(def, name, errors) }
    }

    /// The DefaultTolerationSeconds admission plugin: tolerate a not-ready or unreachable node
    /// for 300 s, unless the Pod says otherwise.
    static func defaultTolerations(_ tolerations: [JSONValue]) -> [JSONValue] {
        var out = tolerations
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            let covered = tolerations.contains { t in
                (t["key"]?.stringValue == key || (t["key"] == nil && t["operator"] == "Exists")) && (t["effect"] == nil || t["effect"] == "NoExecute")
            }
            if !covered { out.append(["key": .string(key), "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300]) }
        }
        return out
    }

    /// The ServiceAccount admission plugin: a projected volume with the account's token, the
    /// cluster CA and the namespace, mounted read-only at the path client libraries read, unless
    /// the Pod opts out with `automountServiceAccountToken: false`.
    static func mountServiceAccountToken(_ spec: JSONValue) -> JSONValue {
        guard spec["automountServiceAccountToken"]?.boolValue != false else { return spec }
        let mountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
        let containers = spec["containers"]?.arrayValue ?? []
        if containers.contains(where: { ($0["volumeMounts"]?.arrayValue ?? []).contains { $0["mountPath"]?.stringValue == mountPath } }) { return spec }
        var spec = spec
        let volume = "kube-api-access-" + String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement() ?? "x" })
        var volumes = spec["volumes"]?.arrayValue ?? []
        volumes.append([
            "name": .string(volume),
            "projected": [
                "defaultMode": 420,
                "sources": [
                    ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                    ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                    ["downwardAPI": ["items": [["fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"], "path": "namespace"]]]],
                ],
            ],
        ])
        spec["volumes"] = .array(volumes)
        spec["containers"] = .array(containers.map { container in
            var c = container
            var mounts = c["volumeMounts"]?.arrayValue ?? []
            mounts.append(["name": .string(volume), "readOnly": true, "mountPath": .string(mountPath)])
            c["volumeMounts"] = .array(mounts)
            return c
        })
        return spec
    }

    /// A finalizer name is a qualified name: an optional DNS subdomain prefix and `/`, then a name part.
    static func isQualifiedName(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return LabelSyntax.isQualifiedNamePart(text)
        case 2: return LabelSyntax.isDNSSubdomain(String(parts[0])) && LabelSyntax.isQualifiedNamePart(String(parts[1]))
        default: return false
        }
    }

    /// Owner references need a uid, and at most one may be the controller.
    static func validateOwnerReferences(_ references: [JSONValue]) -> [FieldError] {
        var errors: [FieldError] = []
        for reference in references where (reference["uid"]?.stringValue ?? "").isEmpty {
            errors.append(.invalid("metadata.ownerReferences.uid", .string(""), "uid must not be empty"))
        }
        let controllers = references.filter { $0["controller"]?.boolValue == true }
        if controllers.count > 1 {
            let names = controllers.map { "\($0["kind"]?.stringValue ?? "")/\($0["name"]?.stringValue ?? "")" }
            errors.append(FieldError(field: "metadata.ownerReferences", reason: "FieldValueInvalid", detail: "Invalid value: \"array\": Only one reference can have Controller set to true. Found \"true\" in references for \(names.joined(separator: " and "))"))
        }
        return errors
    }

    static func defaultContainer(_ container: JSONValue) -> JSONValue {
        var c = container
        if c["resources"] == nil { c["resources"] = [:] }
        if c["imagePullPolicy"] == nil {
            let image = c["image"]?.stringValue ?? ""
            let tagged = image.split(separator: "/").last?.contains(":") ?? false
            c["imagePullPolicy"] = (!tagged || image.hasSuffix(":latest")) ? "Always" : "IfNotPresent"
        }
        if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = "/dev/termination-log" }
        if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = "File" }
        if let ports = c["ports"]?.arrayValue {
            c["ports"] = .array(ports.map { port in
                var port = port
                if port["protocol"] == nil { port["protocol"] = "TCP" }
                return port
            })
        }
        return c
    }

    static func qosClass(_ pod: JSONValue) -> String {
        let containers = pod.value(atPath: "spec.containers")?.arrayValue ?? []
        let resources = containers.map { $0["resources"] ?? [:] }
        if resources.allSatisfy({ ($0["requests"]?.objectValue ?? [:]).isEmpty && ($0["limits"]?.objectValue ?? [:]).isEmpty }) { return "BestEffort" }
        let guaranteed = resources.allSatisfy { r in
            let limits = r["limits"]?.objectValue ?? [:]
            let requests = r["requests"]?.objectValue ?? limits
            return limits["cpu"] != nil && limits["memory"] != nil && requests["cpu"] == limits["cpu"] && requests["memory"] == limits["memory"]
        }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
