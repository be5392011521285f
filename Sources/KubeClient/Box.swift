/// An immutable value on the heap, shared by reference.
///
/// Large values that are often absent or held in tables are kept boxed: a dictionary keeps a
/// quarter or more of its buckets empty, more after it grew or lost entries, and an empty bucket
/// then costs a pointer instead of a whole (often 400-byte) struct; an optional struct field that
/// is nil costs a pointer instead of the struct's whole size. Equal when the values are.
public final class Box<Value: Sendable>: Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

extension Box: Equatable where Value: Equatable {
    public static func == (a: Box, b: Box) -> Bool { a === b || a.value == b.value }
}

extension Box: Hashable where Value: Hashable {
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
