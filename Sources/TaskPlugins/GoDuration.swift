import Foundation

/// Go's `time.Duration.String` for a number of seconds (`0s`, `1.5s`, `3m0s`, `1h2m3s`), the
/// form Flyte's messages and rendered inputs use.
public enum GoDuration {
    public static func text(_ seconds: Double) -> String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        let h = Int(rest / 3600)
        rest -= Double(h) * 3600
        let m = Int(rest / 60)
        rest -= Double(m) * 60
        let s = rest == rest.rounded() ? String(Int(rest)) : String(format: "%g", rest)
        if h > 0 { return "\(h)h\(m)m\(s)s" }
        if m > 0 { return "\(m)m\(s)s" }
        return "\(s)s"
    }
}
