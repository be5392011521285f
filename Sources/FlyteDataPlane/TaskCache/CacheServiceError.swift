/// Why a call to Flyte's cache service did not give an answer the executor can use.
public enum CacheServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The service answered with a Connect error (`{"code": …, "message": …}`).
    case rpc(httpStatus: Int, code: String, message: String)
    /// No answer: connection refused, reset, timed out.
    case transport(String)
    /// An answer the executor cannot use: not the message, or missing what Flyte requires.
    case malformed(String)
    case invalidConfig(String)

    /// Connect's `not_found`: no entry for the key.
    public var isNotFound: Bool {
        if case .rpc(_, "not_found", _) = self { return true }
        return false
    }

    /// Connect's `already_exists`: the entry was written by someone else first (Flyte counts
    /// the outputs as populated).
    public var isAlreadyExists: Bool {
        if case .rpc(_, "already_exists", _) = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .rpc(let status, let code, let message): "cache service answered \(status) \(code): \(message)"
        case .transport(let text): "cache service unreachable: \(text)"
        case .malformed(let text): "cache service answer unusable: \(text)"
        case .invalidConfig(let text): text
        }
    }
}
