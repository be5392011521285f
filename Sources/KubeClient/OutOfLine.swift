/// Members of a model that are often unset, kept in one ``Box`` instead of inline: a pointer
/// in the model, nil while every member is unset.
///
/// Cached objects are held inline in the informers' stores, one heap box each, so every byte of
/// a model's inline size is paid once per cached object: 5 MiB at 5,000 TaskActions and their
/// Pods. A `String?` is 16 bytes even when nil. Members that only a failure or a deletion sets,
/// or that a cache's view drops, cost a pointer here while unset; a model that sets them pays one
/// allocation, made once when they are set together (decoding), or again on each later set.
///
/// The model declares its members as an ``OutOfLineMembers`` struct, stores
/// `OutOfLine<ThatStruct>`, and forwards each public property through ``subscript(_:)``.
/// Equal and hashed by the members' values.
public struct OutOfLine<Members: OutOfLineMembers>: Hashable, Sendable {
    @usableFromInline var box: Box<Members>?

    /// Nothing set.
    @inlinable public init() {}

    /// The members as given, boxed unless all are unset.
    @inlinable public init(_ members: Members) {
        box = members == Members() ? nil : Box(members)
    }

    /// A member's value: the boxed one, or its unset value when nothing is boxed.
    @inlinable public subscript<Member>(member: WritableKeyPath<Members, Member>) -> Member {
        get {
            if let box { return box.value[keyPath: member] }
            return Members()[keyPath: member]
        }
        set {
            var members = box?.value ?? Members()
            members[keyPath: member] = newValue
            box = members == Members() ? nil : Box(members)
        }
    }

    /// Whether a box is held: false while every member is unset.
    public var isBoxed: Bool { box != nil }

    @inlinable public static func == (a: Self, b: Self) -> Bool { a.box == b.box }
    @inlinable public func hash(into hasher: inout Hasher) { hasher.combine(box) }
}

/// The members an ``OutOfLine`` holds: `init()` leaves every one unset (nil, empty).
public protocol OutOfLineMembers: Hashable, Sendable {
    init()
}
