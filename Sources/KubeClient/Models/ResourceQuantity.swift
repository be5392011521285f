import Foundation

/// Resource quantities as apimachinery's `resource.ParseQuantity` reads them: a sign, digits
/// with at most one `.`, then a suffix that is binary (`Ki`…`Ei`), decimal SI (`n`, `u`, `m`,
/// `k`, `M`…`E`) or a decimal exponent (`e3`, `E-2`). kube-apiserver decodes a Pod's quantities
/// before anything else, so a malformed one makes a whole Pod undecodable (a 400).
public enum ResourceQuantity {
    public static let formatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    public static let suffixWrong = "unable to parse quantity's suffix"

    /// The quantity's value (a Double: enough to compare and to see the sign), or Go's error.
    public static func parse(_ text: String) -> Result<Double, ResourceQuantity.ParseError> {
        let s = Array(text.utf8)
        guard !s.isEmpty else { return .failure(ParseError(message: formatWrong)) }
        var pos = 0
        var negative = false
        if s[0] == UInt8(ascii: "-") { negative = true; pos += 1 } else if s[0] == UInt8(ascii: "+") { pos += 1 }
        func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
        let numberStart = pos
        while pos < s.count, isDigit(s[pos]) { pos += 1 }
        if pos < s.count, s[pos] == UInt8(ascii: ".") {
            pos += 1
            while pos < s.count, isDigit(s[pos]) { pos += 1 }
        }
        let number = String(decoding: s[numberStart..<pos], as: UTF8.self)
        let suffixStart = pos
        let suffixLetters = Set("eEinumkKMGTP".utf8)
        while pos < s.count, suffixLetters.contains(s[pos]) { pos += 1 }
        if pos < s.count, s[pos] == UInt8(ascii: "-") || s[pos] == UInt8(ascii: "+") { pos += 1 }
        while pos < s.count, isDigit(s[pos]) { pos += 1 }
        // Anything left over (a second `.`, a letter outside the set) is the format error.
        guard pos == s.count else { return .failure(ParseError(message: formatWrong)) }
        let suffix = String(decoding: s[suffixStart...], as: UTF8.self)
        guard let multiplier = multiplier(suffix) else { return .failure(ParseError(message: suffixWrong)) }
        // Go reads "" and "." as 0 (all digits stripped).
        let magnitude = (Double(number == "." ? "0" : (number.hasPrefix(".") ? "0" + number : number)) ?? 0) * multiplier
        return .success(negative ? -magnitude : magnitude)
    }

    static func multiplier(_ suffix: String) -> Double? {
        switch suffix {
        case "": return 1
        case "Ki": return 1024
        case "Mi": return pow(1024, 2)
        case "Gi": return pow(1024, 3)
        case "Ti": return pow(1024, 4)
        case "Pi": return pow(1024, 5)
        case "Ei": return pow(1024, 6)
        case "n": return 1e-9
        case "u": return 1e-6
        case "m": return 1e-3
        case "k": return 1e3
        case "M": return 1e6
        case "G": return 1e9
        case "T": return 1e12
        case "P": return 1e15
        case "E": return 1e18
        default:
            guard let first = suffix.first, first == "e" || first == "E", let exponent = Int(suffix.dropFirst()) else { return nil }
            return pow(10, Double(exponent))
        }
    }

    /// Why a quantity does not parse, in apimachinery's words.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
