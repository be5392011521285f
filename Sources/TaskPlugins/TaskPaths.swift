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

    static let shardAlphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")

    /// Two characters from the FNV-1a hash of `<namespace>/<name>` modulo 1296.
    public static func shard(namespace: String, name: String) -> String {
        var hash = FNV1a32()
        hash.combine(namespace.utf8)
        hash.combine(CollectionOfOne(UInt8(ascii: "/")))
        hash.combine(name.utf8)
        let index = Int(hash.value % 1296)
        return String([shardAlphabet[index / 36], shardAlphabet[index % 36]])
    }

    /// `s` without leading and trailing `/` (Foundation's `trimmingCharacters(in:)` builds a
    /// CharacterSet per call, which showed in profiles of every reconcile).
    static func trimSlashes(_ s: Substring) -> String {
        var start = s.startIndex
        var end = s.endIndex
        while start < end, s[start] == "/" { start = s.index(after: start) }
        while end > start, s[s.index(before: end)] == "/" { end = s.index(before: end) }
        return String(s[start..<end])
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
            let slash = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            let bucket = afterScheme[..<slash]
            let rest = trimSlashes(afterScheme[slash...])
            let parts = [shard] + (rest.isEmpty ? [] : [rest]) + [actionName, String(attempt)]
            return "\(scheme)://\(bucket)/" + parts.joined(separator: "/")
        }
        let rest = trimSlashes(Substring(runOutputBase))
        let parts = [shard] + (rest.isEmpty ? [] : [rest]) + [actionName, String(attempt)]
        return "/" + parts.joined(separator: "/")
    }
}
