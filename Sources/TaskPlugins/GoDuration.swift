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

    /// A Go duration as whole seconds for a setting, rounded up; nil for text that is not one,
    /// or that is negative or past `Int32.max` seconds.
    public static func wholeSeconds(_ text: String) -> Int? {
        guard let value = parse(text), value >= 0, value < Double(Int32.max) else { return nil }
        return Int(value.rounded(.up))
    }

    /// Go's `time.ParseDuration`: a sign, then numbers with units (`ns`, `us`/`µs`, `ms`, `s`,
    /// `m`, `h`), decimals allowed (`1h30m`, `1.5s`, `-2m`, `0`); nil for anything else.
    public static func parse(_ text: String) -> Double? {
        var rest = Substring(text)
        var sign = 1.0
        if let first = rest.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            rest = rest.dropFirst()
        }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("μs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
        }
        return sign * total
    }
}
