/// Why an object could not be read. Every case is a failure to know, never an answer: the
/// executor treats it as a system error and retries (an absent object is `nil`, not an error).
public enum BlobStoreError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The store did not answer, or answered 5xx.
    case unavailable(String)
    /// The store refused the credentials or the request (403, 400, 301 to another region, …).
    case refused(String)
    /// No credentials could be found or obtained.
    case credentials(String)
    /// The URI's scheme has no store configured.
    case unsupported(String)
    /// The object is larger than the caller's limit.
    case tooLarge(String, limit: Int)

    public var description: String {
        switch self {
        case .unavailable(let text): "blob store unavailable: \(text)"
        case .refused(let text): "blob store refused the request: \(text)"
        case .credentials(let text): "blob store credentials: \(text)"
        case .unsupported(let text): text
        case .tooLarge(let uri, let limit): "\(uri) is larger than \(limit) bytes"
        }
    }
}
