import KubeClient

/// The sandbox's parsers and engines as the fuzz targets drive them (`make fuzz`; see
/// Fuzz/README.md): bytes in, nothing out. A crash, a hang or a broken invariant (checked
/// with `precondition`) is the finding; errors for bad input are expected.
public enum SandboxFuzzing {
    /// Validates documents against the structural schema of one CRD, as a create and an
    /// update of its custom resources do.
    public struct Schema: Sendable {
        let definitions: [ResourceDefinition]

        /// - Parameter crd: a CustomResourceDefinition (the TaskAction's, say).
        public init(crd: JSONValue) {
            definitions = CRDSupport.definitions(from: crd).filter { $0.schema != nil }
        }

        /// Parses `bytes` as JSON and, when it is an object, prunes, defaults and validates it
        /// against every version's schema, also as an update of itself.
        public func run(_ bytes: [UInt8]) {
            guard let value = try? JSONValue.parse(bytes, maxDepth: 64), case .object = value else { return }
            for def in definitions {
                guard let schema = def.schema else { continue }
                let (pruned, _) = SchemaValidator.pruneAndDefault(value, schema: schema)
                _ = SchemaValidator.validate(pruned, schema: schema)
                _ = SchemaValidator.validate(pruned, schema: schema, old: value)
                // Pruning is idempotent: what survives one pass survives a second.
                let (again, removed) = SchemaValidator.pruneAndDefault(pruned, schema: schema)
                precondition(removed.isEmpty && again == pruned, "pruning twice removed \(removed)")
            }
        }
    }

    /// Applies a patch to a document with the three patch engines. The input is a JSON array
    /// `[target, patch]`; anything else is ignored.
    public static func patch(_ bytes: [UInt8]) {
        guard let value = try? JSONValue.parse(bytes, maxDepth: 64), case .array(let pair) = value, pair.count == 2 else { return }
        let (target, patch) = (pair[0], pair[1])
        let merged = Patching.mergePatch(target, patch)
        // RFC 7386: applying the same merge patch again changes nothing.
        precondition(Patching.mergePatch(merged, patch) == merged, "merge patch is not idempotent")
        _ = Patching.strategicMerge(target, patch)
        _ = try? Patching.jsonPatch(target, patch, def: .namespaces, name: "fuzz")
    }

    /// Compiles the input as a CEL rule (`x-kubernetes-validations`) and checks it against a
    /// small object and its old version.
    public static func cel(_ bytes: [UInt8]) {
        guard let rule = String(validating: bytes, as: UTF8.self), rule.utf8.count <= 4096 else { return }
        let value: JSONValue = ["name": "a", "replicas": 3, "tags": ["x", "y"], "limits": ["cpu": "1"], "ratio": 0.5, "enabled": true]
        let old: JSONValue = ["name": "b", "replicas": 1, "tags": [], "limits": [:], "ratio": 1.5, "enabled": false]
        _ = CELRules.compile(rule)
        _ = CELRules.check([["rule": .string(rule), "message": "m"]], value: value, old: old, path: "spec")
        _ = CELRules.check([["rule": .string(rule)]], value: value, old: nil, path: "spec")
    }
}
