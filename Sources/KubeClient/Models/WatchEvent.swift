/// The type of a watch event.
public enum WatchEventType: String, Codable, Sendable {
    case added = "ADDED"
    case modified = "MODIFIED"
    case deleted = "DELETED"
    case bookmark = "BOOKMARK"
    case error = "ERROR"
}

/// One event of a watch stream (`metav1.WatchEvent`).
///
/// An `ERROR` event carries a ``Status`` instead of an object; the decoder turns it into a
/// thrown ``KubeAPIError`` so callers see a 410 Gone the same way on every path.
public enum WatchEvent<Object: Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// Only `metadata.resourceVersion` of the object is meaningful.
    case bookmark(resourceVersion: String)

    public var object: Object? {
        switch self {
        case .added(let o), .modified(let o), .deleted(let o): return o
        case .bookmark: return nil
        }
    }

    public var type: WatchEventType {
        switch self {
        case .added: return .added
        case .modified: return .modified
        case .deleted: return .deleted
        case .bookmark: return .bookmark
        }
    }
}
