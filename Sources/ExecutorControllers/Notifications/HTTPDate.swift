import Foundation
import KubeClient

/// HTTP dates (RFC 9110 §5.6.7), as a `Retry-After` header carries them: the preferred
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms every recipient
/// must still accept, RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`).
///
/// Parsed by hand: Foundation's `DateFormatter` on Linux is ICU, whose code and locale data
/// the executor otherwise keeps out of its memory (docs/benchmarks.md, "YAML without ICU").
enum HTTPDate {
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let shortDays: Set<Substring> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let longDays: Set<Substring> = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    /// The date `text` names, or nil when it is none of the three forms or names no date.
    /// `now` places an RFC 850 date's two-digit year: more than 50 years ahead means the most
    /// recent past year with those digits.
    static func parse(_ text: String, now: Date) -> Date? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count == 6, fields[0].hasSuffix(","), shortDays.contains(fields[0].dropLast()), fields[5] == "GMT" {
            // IMF-fixdate: day-name, DD Mon YYYY HH:MM:SS GMT
            guard let day = number(fields[1], digits: 2...2), let month = month(fields[2]), let year = number(fields[3], digits: 4...4) else { return nil }
            return date(year: year, month: month, day: day, time: fields[4])
        }
        if fields.count == 4, fields[0].hasSuffix(","), longDays.contains(fields[0].dropLast()), fields[3] == "GMT" {
            // RFC 850: day-name, DD-Mon-YY HH:MM:SS GMT
            let parts = fields[1].split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, let day = number(parts[0], digits: 2...2), let month = month(parts[1]), let yy = number(parts[2], digits: 2...2) else { return nil }
            return date(year: fullYear(yy, now: now), month: month, day: day, time: fields[2])
        }
        if fields.count == 5, shortDays.contains(fields[0]) {
            // asctime: day-name Mon D HH:MM:SS YYYY (a one-digit day is padded with a space)
            guard let month = month(fields[1]), let day = number(fields[2], digits: 1...2), let year = number(fields[4], digits: 4...4) else { return nil }
            return date(year: year, month: month, day: day, time: fields[3])
        }
        return nil
    }

    /// `text` as a decimal number of `digits` ASCII digits, no sign.
    private static func number(_ text: Substring, digits: ClosedRange<Int>) -> Int? {
        guard digits.contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text)
    }

    private static func month(_ name: Substring) -> Int? {
        months.firstIndex { $0 == name }.map { $0 + 1 }
    }

    private static func fullYear(_ yy: Int, now: Date) -> Int {
        let current = KubeTime.Components(now).year
        var year = current - current % 100 + yy
        if year > current + 50 { year -= 100 }
        return year
    }

    private static func date(year: Int, month: Int, day: Int, time: Substring) -> Date? {
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let hour = number(parts[0], digits: 2...2), let minute = number(parts[1], digits: 2...2), let second = number(parts[2], digits: 2...2),
              let seconds = KubeTime.Components.secondsSince1970(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
