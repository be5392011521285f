import FlyteIDL

/// The key of a task's outputs in Flyte's cache service, computed as Flyte's executor computes
/// it (`catalog/cache_service.buildCacheKey`), so that the Go executor and this one find each
/// other's entries:
///
///     <identifier hash>-<inputs signature>-<outputs signature>-<inputs hash>-<cache version>
///
/// - identifier hash: the task's identifier without its version (a new version of the same
///   task hits the same entries), hashed, standard base64;
/// - signatures: the interface's input and output variable maps, hashed, URL-safe base64
///   without padding, cut to 8 characters (an empty map hashes as `{}`);
/// - inputs hash: the inputs with the variables named in `cache_ignore_input_vars` left out,
///   and every literal that carries a `hash` replaced by a literal holding only that hash;
/// - cache version: the TaskAction's `spec.cacheKey`.
public struct CacheKey: Sendable, Hashable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    /// Fails only when a value cannot be hashed (a number objecthash cannot normalise).
    public init(
        task: Flyteidl2_Core_Identifier,
        interface: Flyteidl2_Core_TypedInterface,
        inputs: Flyteidl2_Core_LiteralMap,
        ignoredInputs: [String],
        cacheVersion: String
    ) throws {
        let identifier = try ProtoHash.base64(Self.withoutVersion(task))
        let signature = try "\(Self.signature(interface.hasInputs ? interface.inputs : .init()))-\(Self.signature(interface.hasOutputs ? interface.outputs : .init()))"
        // Flyte reads the inputs only when the interface declares an input map at all.
        let hashed = try Self.inputsHash(interface.hasInputs ? inputs : .init(), ignoring: ignoredInputs)
        value = "\(identifier)-\(signature)-\(hashed)-\(cacheVersion)"
    }

    static func withoutVersion(_ id: Flyteidl2_Core_Identifier) -> Flyteidl2_Core_Identifier {
        var copy = Flyteidl2_Core_Identifier()
        copy.resourceType = id.resourceType
        copy.project = id.project
        copy.domain = id.domain
        copy.name = id.name
        copy.org = id.org
        return copy
    }

    static func signature(_ variables: Flyteidl2_Core_VariableMap) throws -> String {
        String(try ProtoHash.rawURLBase64(variables).prefix(8))
    }

    /// `catalog.HashLiteralMap`.
    public static func inputsHash(_ inputs: Flyteidl2_Core_LiteralMap, ignoring ignored: [String]) throws -> String {
        var hashified = Flyteidl2_Core_LiteralMap()
        for (name, literal) in inputs.literals where !ignored.contains(name) {
            hashified.literals[name] = hashify(literal)
        }
        return try ProtoHash.rawURLBase64(hashified)
    }

    /// A literal with a `hash` stands for that hash alone (its value, metadata and all); a
    /// collection or map is rebuilt from its hashified members, dropping its own metadata as
    /// Flyte does; any other literal is itself.
    static func hashify(_ literal: Flyteidl2_Core_Literal) -> Flyteidl2_Core_Literal {
        if !literal.hash.isEmpty {
            var only = Flyteidl2_Core_Literal()
            only.hash = literal.hash
            return only
        }
        switch literal.value {
        case .collection(let collection):
            var rebuilt = Flyteidl2_Core_Literal()
            rebuilt.collection.literals = collection.literals.map(hashify)
            return rebuilt
        case .map(let map):
            var rebuilt = Flyteidl2_Core_Literal()
            rebuilt.map.literals = map.literals.mapValues(hashify)
            return rebuilt
        default:
            return literal
        }
    }
}
