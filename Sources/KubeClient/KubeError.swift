/// A call the API server answered with an error status.
///
/// Carries the server's ``Status`` so callers can branch on the reason:
/// ```swift
/// do { try await client.create(pod) } catch let e as KubeAPIError where e.isAlreadyExists { /* launched */ }
/// ```
public struct KubeAPIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status code.
    public var code: Int
    /// The decoded `Status`, or one synthesized from the HTTP code when the body was not a Status.
    public var status: Status
    /// The `Retry-After` the server sent, in seconds.
    public var retryAfterSeconds: Int?

    public init(code: Int, status: Status, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.status = status
        self.retryAfterSeconds = retryAfterSeconds ?? status.details?.retryAfterSeconds
    }

    public var reason: String { status.reason ?? "" }
    public var message: String { status.message ?? "" }

    public var isNotFound: Bool { code == 404 || reason == "NotFound" }
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }
    public var isAlreadyExists: Bool { reason == "AlreadyExists" }
    /// 410: the requested resourceVersion or continue token is too old; relist.
    public var isGone: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
    public var isInvalid: Bool { code == 422 || reason == "Invalid" }
    public var isTooManyRequests: Bool { code == 429 || reason == "TooManyRequests" }
    public var isForbidden: Bool { code == 403 }
    public var isUnauthorized: Bool { code == 401 }
    public var isServerError: Bool { code >= 500 }

    public var description: String {
        "Kubernetes API error \(code) \(reason): \(message)"
    }
}

/// A failure on the client side: configuration, transport or decoding.
public enum KubeClientError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A kubeconfig or in-cluster configuration that cannot be used; the message names the file and entry.
    case invalidConfiguration(String)
    /// The request could not be sent or its response not read.
    case transport(String)
    /// The response could not be decoded into the expected type.
    case decoding(String)
    /// A request or response body over the configured limit.
    case tooLarge(String)
    /// An exec credential plugin failed.
    case credentialPlugin(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return m
        case .transport(let m): return "transport error: \(m)"
        case .decoding(let m): return "decoding error: \(m)"
        case .tooLarge(let m): return m
        case .credentialPlugin(let m): return "exec credential plugin: \(m)"
        }
    }
}
