import ExecutorAPI
import KubeClient

/// A task's Pod merged onto a base PodTemplate as Flyte's `MergeWithBasePodTemplate` and
/// `MergeBasePodSpecOntoTemplate` do, with mergo's override-and-append rules: what the task's
/// Pod sets wins, lists are the template's followed by the Pod's, maps merge key by key, and an
/// empty value (absent, `""`, `0`, `false`, empty list or map) leaves the template's.
///
/// Containers are not appended: each of the Pod's containers starts from the template's
/// container named `default`, then (for the primary container) `primary`, then the template's
/// container of its own name, then itself; init containers the same with `default-init`. The
/// template's metadata gives labels and annotations under the Pod's own.
public enum PodTemplateMerge {
    public static func apply(_ template: PodTemplate, to spec: inout PodSpec, metadata: inout ObjectMeta, primary: String) throws(ExecutionError) {
        let base = template.template ?? .emptyObject
        var merged: JSONValue
        do {
            merged = try JSONValueEncoder().encode(spec)
        } catch {
            throw ExecutionError(code: "BadTaskSpecification", message: "the Pod spec cannot be merged onto PodTemplate '\(template.metadata.name ?? "")': \(error)", kind: .user)
        }
        let templateSpec = base["spec"] ?? .emptyObject
        let containers = merged["containers"]?.arrayValue ?? []
        let initContainers = merged["initContainers"]?.arrayValue ?? []
        var result = mergo(templateSpec, merged)
        result["containers"] = .array(containers.map { mergeContainer($0, templates: templateSpec["containers"]?.arrayValue ?? [], defaultName: "default", primaryName: $0["name"]?.stringValue == primary ? "primary" : nil) })
        let mergedInit = initContainers.map { mergeContainer($0, templates: templateSpec["initContainers"]?.arrayValue ?? [], defaultName: "default-init", primaryName: nil) }
        result["initContainers"] = mergedInit.isEmpty ? nil : .array(mergedInit)
        do {
            spec = try JSONValueDecoder().decode(PodSpec.self, from: result)
        } catch {
            throw ExecutionError(code: "BadTaskSpecification", message: "PodTemplate '\(template.metadata.name ?? "")' does not merge into a Pod spec: \(error)", kind: .user)
        }
        var labels = base.value(atPath: "metadata.labels")?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        for (k, v) in metadata.labels ?? [:] { labels[k] = v }
        metadata.labels = labels.isEmpty ? nil : labels
        var annotations = base.value(atPath: "metadata.annotations")?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        for (k, v) in metadata.annotations ?? [:] { annotations[k] = v }
        metadata.annotations = annotations.isEmpty ? nil : annotations
    }

    /// One of the Pod's containers over the template's `default`, `primary` (when it is the
    /// primary container) and same-named containers, in that order.
    static func mergeContainer(_ container: JSONValue, templates: [JSONValue], defaultName: String, primaryName: String?) -> JSONValue {
        func named(_ name: String) -> JSONValue? { templates.first { $0["name"]?.stringValue == name } }
        var merged: JSONValue?
        if let template = named(defaultName) { merged = template }
        if let primaryName, let template = named(primaryName) { merged = merged.map { mergo($0, template) } ?? template }
        let name = container["name"]?.stringValue ?? ""
        if !magicNames.contains(name), let template = named(name) { merged = merged.map { mergo($0, template) } ?? template }
        return merged.map { mergo($0, container) } ?? container
    }

    /// The template containers that stand for others, never merged by name.
    static let magicNames: Set<String> = ["default", "primary", "default-init", "primary-init"]

    /// mergo's `Merge(dst, src, WithOverride, WithAppendSlice)` on JSON.
    static func mergo(_ dst: JSONValue, _ src: JSONValue) -> JSONValue {
        if isEmpty(src) { return dst }
        switch (dst, src) {
        case (.object(var d), .object(let s)):
            for (key, value) in s {
                d[key] = d[key].map { mergo($0, value) } ?? value
            }
            return .object(d)
        case (.array(let d), .array(let s)):
            return .array(d + s)
        default:
            return src
        }
    }

    static func isEmpty(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .bool(let b): !b
        case .int(let i): i == 0
        case .double(let d): d == 0
        case .string(let s): s.isEmpty
        case .array(let a): a.isEmpty
        case .object(let o): o.isEmpty
        }
    }
}
