/// An immutable value on the heap, shared by reference.
///
/// Tables keep large values boxed: a dictionary keeps a quarter or more of its buckets empty,
/// more after it grew or lost entries, and an empty bucket then costs a pointer instead of a
/// whole (often 400-byte) struct.
public final class Box<Value: Sendable>: Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
