/// Why ActionEvents were not recorded. The reconciler then leaves the status unwritten and
/// retries the round, so nothing Flyte has not heard of is shown on the TaskAction.
public enum EventsProxyError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The service answered with a Connect error (`{"code": …, "message": …}`).
    case rpc(httpStatus: Int, code: String, message: String)
    /// No answer: connection refused, reset, timed out.
    case transport(String)
    /// More events wait than `events.queue-size`.
    case queueFull(Int)
    /// The client was shut down before the batch was sent.
    case shutDown
    case invalidConfig(String)

    public var description: String {
        switch self {
        case .rpc(let status, let code, let message): "events service answered \(status) \(code): \(message)"
        case .transport(let text): "events service unreachable: \(text)"
        case .queueFull(let size): "events queue full (\(size) events waiting)"
        case .shutDown: "events client shut down"
        case .invalidConfig(let text): text
        }
    }
}
