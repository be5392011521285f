import KubeClient

/// `core/v1` Events and `events.k8s.io/v1` Events are one store seen through two APIs, as on
/// kube-apiserver: objects are kept in the core shape, and the events.k8s.io API renames
/// fields on the way in and out. So `kubectl get events` shows what a controller records
/// through events.k8s.io, and the other way round.
///
/// Validation is kube-apiserver's `ValidateEventCreate`: the legacy rules for every Event, and
/// the strict ones (eventTime, reportingController, reportingInstance, action, type; no
/// deprecated fields) for those created through events.k8s.io. Field paths name the core
/// fields, as the real server's do (it validates the internal, core-shaped type).
enum EventStorage {
    /// events.k8s.io/v1 field → core/v1 field.
    static let renames: [(events: String, core: String)] = [
        ("regarding", "involvedObject"), ("note", "message"), ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"), ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"), ("deprecatedCount", "count"),
    ]

    /// Whether `def` is the events.k8s.io view.
    static func isEventsAPI(_ def: ResourceDefinition) -> Bool { def.type.group == "events.k8s.io" && def.type.plural == "events" }

    /// Whether `def` is either Event API.
    static func isEvent(_ def: ResourceDefinition) -> Bool { def.type.plural == "events" && (def.type.group.isEmpty || def.type.group == "events.k8s.io") }

    /// An object as written through `def`, in the stored (core) shape.
    static func toStorage(_ object: JSONValue, from def: ResourceDefinition) -> JSONValue {
        guard isEventsAPI(def), object["apiVersion"]?.stringValue != "v1" else { return object }
        var out = object
        for (events, core) in renames {
            out[core] = out[events]
            out[events] = nil
        }
        out["apiVersion"] = "v1"
        return out
    }

    /// A stored object as `def` shows it.
    static func toServed(_ object: JSONValue, as def: ResourceDefinition) -> JSONValue {
        guard isEventsAPI(def), object["apiVersion"]?.stringValue == "v1" else { return object }
        var out = object
        for (events, core) in renames {
            out[events] = out[core]
            out[core] = nil
        }
        out["apiVersion"] = .string(def.type.apiVersion)
        return out
    }

    /// A field selector's path through `def`, as a path in the stored object.
    static func storedFieldPath(_ path: String, def: ResourceDefinition) -> String {
        guard isEventsAPI(def) else { return path }
        for (events, core) in renames where path == events || path.hasPrefix(events + ".") {
            return core + path.dropFirst(events.count)
        }
        return path
    }

    /// kube-apiserver's `ValidateEventCreate` (and, for updates, its legacy part).
    static func validate(_ event: JSONValue, through def: ResourceDefinition, creating: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        let strict = isEventsAPI(def) && creating
        let namespace = event.value(atPath: "metadata.namespace")?.stringValue ?? ""
        let involvedNamespace = event.value(atPath: "involvedObject.namespace")?.stringValue ?? ""
        let controllerField = isEventsAPI(def) ? "reportingController" : "reportingComponent"
        func text(_ field: String) -> String { event[field]?.stringValue ?? "" }
        if event["eventTime"] == nil || event["eventTime"]?.isNull == true {
            // An old-style Event: its namespace and its object's must agree.
            let agrees = involvedNamespace.isEmpty ? (namespace.isEmpty || namespace == "default") : namespace == involvedNamespace
            if !agrees { errors.append(.invalid("involvedObject.namespace", .string(involvedNamespace), "does not match event.namespace")) }
        } else {
            if involvedNamespace.isEmpty && namespace != "default" && namespace != "kube-system" {
                errors.append(.invalid("involvedObject.namespace", .string(involvedNamespace), "does not match event.namespace"))
            }
            let controller = text("reportingComponent")
            if controller.isEmpty {
                errors.append(.required(controllerField))
            } else if !Admission.isQualifiedName(controller) {
                errors.append(.invalid(controllerField, .string(controller), "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
            }
            for (field, limit) in [("reportingInstance", 128), ("action", 128), ("reason", 128)] {
                if text(field).isEmpty { errors.append(.required(field)) }
                if text(field).utf8.count > limit { errors.append(.invalid(field, "", "can have at most \(limit) characters")) }
            }
            if text("message").utf8.count > 1024 { errors.append(.invalid("message", "", "can have at most 1024 characters")) }
        }
        guard strict else { return errors }
        if let series = event["series"], !series.isNull {
            if (series["count"]?.intValue ?? 0) < 2 { errors.append(.invalid("series.count", "", "should be at least 2")) }
            if series["lastObservedTime"] == nil || series["lastObservedTime"]?.isNull == true { errors.append(.required("series.lastObservedTime")) }
        }
        if event["eventTime"] == nil || event["eventTime"]?.isNull == true { errors.append(.required("eventTime")) }
        if text("type") != "Normal" && text("type") != "Warning" { errors.append(.invalid("type", "", "has invalid value: \(text("type"))")) }
        for field in ["firstTimestamp", "lastTimestamp"] where event[field] != nil && event[field]?.isNull != true {
            errors.append(.invalid(field, "", "needs to be unset"))
        }
        if (event["count"]?.intValue ?? 0) != 0 { errors.append(.invalid("count", "", "needs to be unset")) }
        if !(event.value(atPath: "source.component")?.stringValue ?? "").isEmpty || !(event.value(atPath: "source.host")?.stringValue ?? "").isEmpty {
            errors.append(.invalid("source", "", "needs to be unset"))
        }
        return errors
    }
}

/// kube-apiserver's `ValidateLeaseSpec`.
enum LeaseValidation {
    static func validate(_ lease: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if let duration = lease.value(atPath: "spec.leaseDurationSeconds")?.intValue, duration <= 0 {
            errors.append(.invalid("spec.leaseDurationSeconds", .int(duration), "must be greater than 0"))
        }
        if let transitions = lease.value(atPath: "spec.leaseTransitions")?.intValue, transitions < 0 {
            errors.append(.invalid("spec.leaseTransitions", .int(transitions), "must be greater than or equal to 0"))
        }
        let strategy = lease.value(atPath: "spec.strategy")?.stringValue ?? ""
        if !strategy.isEmpty && strategy != "OldestEmulationVersion" {
            errors.append(FieldError(field: "spec.strategy", reason: "FieldValueNotSupported", detail: "Unsupported value: \"\(strategy)\": supported values: \"OldestEmulationVersion\""))
        }
        if !(lease.value(atPath: "spec.preferredHolder")?.stringValue ?? "").isEmpty && strategy.isEmpty {
            errors.append(.forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined"))
        }
        return errors
    }
}
