import KubeClient

/// Go's `ptypes.TimestampString` for a protobuf `Timestamp`: RFC 3339 in UTC with the
/// nanoseconds' trailing zeros dropped and no fraction when there are none
/// (`time.RFC3339Nano`), the form Flyte's plugins give a datetime input rendered into a
/// command line (flyteplugins' `serializePrimitive`).
///
/// Written from the integer seconds and nanoseconds, exact to the nanosecond (a `Date` would
/// round them), and without Foundation's date formatters, which on Linux load ICU.
public enum GoTimestamp {
    /// Seconds of 0001-01-01T00:00:00Z and of 10000-01-01T00:00:00Z: protobuf's valid range.
    static let minSeconds: Int64 = -62_135_596_800
    static let maxSeconds: Int64 = 253_402_300_800

    public static func text(seconds: Int64, nanos: Int32) -> String {
        // Go prints the error in parentheses in place of the time.
        if seconds < minSeconds { return "(timestamp: seconds:\(seconds) nanos:\(nanos) before 0001-01-01)" }
        if seconds >= maxSeconds { return "(timestamp: seconds:\(seconds) nanos:\(nanos) after 10000-01-01)" }
        if nanos < 0 || nanos >= 1_000_000_000 { return "(timestamp: seconds:\(seconds) nanos:\(nanos): nanos not in range [0, 1e9))" }
        let c = KubeTime.Components(secondsSince1970: seconds)
        var text = KubeTime.padded(c.year, width: 4) + "-" + KubeTime.padded(c.month, width: 2) + "-" + KubeTime.padded(c.day, width: 2)
            + "T" + KubeTime.padded(c.hour, width: 2) + ":" + KubeTime.padded(c.minute, width: 2) + ":" + KubeTime.padded(c.second, width: 2)
        if nanos > 0 {
            var fraction = KubeTime.padded(Int(nanos), width: 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }
}
