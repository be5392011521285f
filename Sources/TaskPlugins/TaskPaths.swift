import Foundation

/// Storage locations of one attempt, computed as Flyte's executor does.
public struct TaskPaths: Sendable, Hashable {
    /// `spec.inputUri` without a trailing `/inputs.pb`.
    public var inputPrefix: String
    /// `<scheme>://<bucket>/<shard>/<rest>/<action>/<attempt>`.
    public var outputPrefix: String
    public var checkpointOutputPrefix: String
    /// The previous attempt's checkpoints, or nil on the first attempt.
    public var previousCheckpointPrefix: String?

    public var inputPath: String { inputPrefix + "/inputs.pb" }
    public var outputsPath: String { outputPrefix + "/outputs.pb" }
    public var errorPath: String { outputPrefix + "/error.pb" }
    public var reportPath: String { outputPrefix + "/report.html" }

    public init(namespace: String, name: String, inputUri: String, runOutputBase: String, actionName: String, attempt: Int) {
        var input = inputUri
        if input.hasSuffix("/inputs.pb") { input.removeLast("/inputs.pb".count) }
        inputPrefix = input
        outputPrefix = Self.actionOutputPath(namespace: namespace, name: name, runOutputBase: runOutputBase, actionName: actionName, attempt: attempt)
        checkpointOutputPrefix = outputPrefix + "/_flytecheckpoints"
        previousCheckpointPrefix = attempt >= 2
            ? Self.actionOutputPath(namespace: namespace, name: name, runOutputBase: runOutputBase, actionName: actionName, attempt: attempt - 1) + "/_flytecheckpoints"
            : nil
    }

    static let shardAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)

    /// Two characters from the FNV-1a hash of `<namespace>/<name>` modulo 1296.
    public static func shard(namespace: String, name: String) -> String {
        var hash = FNV1a32()
        hash.combine(namespace.utf8)
        hash.combine(CollectionOfOne(UInt8(ascii: "/")))
        hash.combine(name.utf8)
        let index = Int(hash.value % 1296)
        return String(decoding: [shardAlphabet[index / 36], shardAlphabet[index % 36]], as: UTF8.self)
    }

    /// `s` without leading and trailing `/`, by bytes as Go's `strings.Trim` (Foundation's
    /// `trimmingCharacters(in:)` builds a CharacterSet per call, and walking Characters showed in
    /// profiles of every reconcile, which builds these paths).
    static func trimSlashes(_ s: Substring) -> Substring {
        let utf8 = s.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, utf8[start] == UInt8(ascii: "/") { utf8.formIndex(after: &start) }
        while end > start, utf8[utf8.index(before: end)] == UInt8(ascii: "/") { utf8.formIndex(before: &end) }
        return s[start..<end]
    }

    /// Where the first `://` of `s` is (Foundation's `range(of:)` showed in profiles of every
    /// reconcile, which builds these paths).
    static func schemeSeparator(in s: String) -> Range<String.Index>? {
        let utf8 = s.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: ":") {
                let slash1 = utf8.index(after: index)
                if slash1 != utf8.endIndex, utf8[slash1] == UInt8(ascii: "/") {
                    let slash2 = utf8.index(after: slash1)
                    if slash2 != utf8.endIndex, utf8[slash2] == UInt8(ascii: "/") { return index..<utf8.index(after: slash2) }
                }
            }
            index = utf8.index(after: index)
        }
        return nil
    }

    /// `ComputeActionOutputPath`: the shard goes first in the path, under the bucket.
    public static func actionOutputPath(namespace: String, name: String, runOutputBase: String, actionName: String, attempt: Int) -> String {
        let shard = shard(namespace: namespace, name: name)
        let attempt = max(1, attempt)
        // scheme://bucket/rest, or a plain path.
        if let schemeEnd = schemeSeparator(in: runOutputBase) {
            let scheme = runOutputBase[..<schemeEnd.lowerBound]
            let afterScheme = runOutputBase[schemeEnd.upperBound...]
            let slash = afterScheme.utf8.firstIndex(of: UInt8(ascii: "/")) ?? afterScheme.endIndex
            var path = String(scheme)
            path += "://"
            path += afterScheme[..<slash]
            return joined(onto: path, shard: shard, rest: trimSlashes(afterScheme[slash...]), actionName: actionName, attempt: attempt)
        }
        return joined(onto: "", shard: shard, rest: trimSlashes(Substring(runOutputBase)), actionName: actionName, attempt: attempt)
    }

    /// `path/shard[/rest]/action/attempt`, appended in place.
    private static func joined(onto path: String, shard: String, rest: Substring, actionName: String, attempt: Int) -> String {
        var path = path
        path.reserveCapacity(path.utf8.count + shard.utf8.count + rest.utf8.count + actionName.utf8.count + 8)
        path += "/"
        path += shard
        if !rest.isEmpty {
            path += "/"
            path += rest
        }
        path += "/"
        path += actionName
        path += "/"
        path += String(attempt)
        return path
    }
}
