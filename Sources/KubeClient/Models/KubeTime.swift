import Foundation

/// Kubernetes timestamps: RFC 3339 in UTC with second precision (`metav1.Time`) or
/// microseconds (`metav1.MicroTime`).
///
/// Written by hand rather than with `Date.ISO8601FormatStyle`: every log line, status write and
/// reconcile round formats or parses one, and Foundation's style goes through its time zone
/// machinery, which on Linux is ICU (about 3 MiB of its pages resident in a process that uses it,
/// and a slower path). Calendar arithmetic is proleptic Gregorian, as Go's `time` package.
public enum KubeTime {
    /// A UTC date and time of day, to the second, with the fraction apart.
    public struct Components: Equatable, Sendable {
        public var year: Int
        public var month: Int
        public var day: Int
        public var hour: Int
        public var minute: Int
        public var second: Int
        /// Microseconds past `second`, rounded down.
        public var microsecond: Int

        /// The UTC fields of `date`.
        public init(_ date: Date) {
            // A non-finite date (never one the API server sends) reads as the epoch, not a trap.
            let interval = date.timeIntervalSince1970.isFinite ? date.timeIntervalSince1970 : 0
            let whole = interval.rounded(.down)
            self.init(secondsSince1970: Int64(max(-1e15, min(1e15, whole))))
            microsecond = min(999_999, Int(((interval - whole) * 1_000_000).rounded(.down)))
        }

        /// The UTC fields of whole seconds since 1970 (exact, where a `Date` is a `Double`):
        /// protobuf `Timestamp`s, which carry their nanoseconds apart. `microsecond` is 0.
        public init(secondsSince1970 seconds: Int64) {
            // Far outside any date a cluster writes; keeps the arithmetic below in range.
            let clamped = Int(max(-1_000_000_000_000_000, min(1_000_000_000_000_000, seconds)))
            var days = clamped / 86_400
            var inDay = clamped % 86_400
            if inDay < 0 {
                inDay += 86_400
                days -= 1
            }
            (year, month, day) = KubeTime.civil(fromDays: days)
            hour = inDay / 3600
            minute = inDay % 3600 / 60
            second = inDay % 60
            microsecond = 0
        }

        /// Seconds since 1970 of a UTC date and time, or nil when the fields name none (a 30th
        /// of February, an hour of 24): for parsers of other layouts (HTTP dates).
        public static func secondsSince1970(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
            guard (1...12).contains(month), day >= 1, day <= KubeTime.daysIn(month: month, year: year),
                  (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second)
            else { return nil }
            return Int64(KubeTime.days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
        }
    }

    /// Formats `date` as `2006-01-02T15:04:05Z`, the fraction dropped.
    public static func format(_ date: Date) -> String {
        let c = Components(date)
        guard (0...9999).contains(c.year) else { return Date.ISO8601FormatStyle().format(date) }
        return String(unsafeUninitializedCapacity: 20) { buffer in
            var out = Writer(buffer: buffer)
            out.dateAndTime(c)
            out.byte(UInt8(ascii: "Z"))
            return out.count
        }
    }

    /// Formats `date` as `2006-01-02T15:04:05.000000Z`, the MicroTime of Leases and Events.
    public static func formatMicro(_ date: Date) -> String {
        let c = Components(date)
        guard (0...9999).contains(c.year) else { return Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date) }
        return String(unsafeUninitializedCapacity: 27) { buffer in
            var out = Writer(buffer: buffer)
            out.dateAndTime(c)
            out.byte(UInt8(ascii: "."))
            out.digits(c.microsecond, 6)
            out.byte(UInt8(ascii: "Z"))
            return out.count
        }
    }

    /// `value` in decimal, zero-padded to `width` digits: the fields of other layouts (the GC
    /// label's `2006-01-02.15-04`, SigV4's `20060102T150405Z`).
    public static func padded(_ value: Int, width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// Parses RFC 3339 (`2006-01-02T15:04:05Z`, with any fraction of a second, with `Z` or an
    /// offset such as `+02:00`); `nil` for anything else, or for a date that does not exist.
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes s: UnsafeBufferPointer<UInt8>) -> Date? {
        // yyyy-mm-ddThh:mm:ss is 19 bytes; then a fraction, then Z or ±hh:mm.
        guard s.count >= 20, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"), s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t"),
              s[13] == UInt8(ascii: ":"), s[16] == UInt8(ascii: ":"),
              let year = number(s, 0, 4), let month = number(s, 5, 2), let day = number(s, 8, 2),
              let hour = number(s, 11, 2), let minute = number(s, 14, 2), let second = number(s, 17, 2),
              (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var fraction = 0.0
        if s[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < s.count, let digit = digit(s[index]) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < s.count else { return nil }
        var offset = 0
        switch s[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard s.count - index == 6, s[index + 3] == UInt8(ascii: ":"),
                  let hours = number(s, index + 1, 2), let minutes = number(s, index + 4, 2), hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (s[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == s.count else { return nil }
        let seconds = days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // MARK: - Calendar arithmetic (Howard Hinnant's days_from_civil and civil_from_days)

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01.
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func number(_ s: UnsafeBufferPointer<UInt8>, _ start: Int, _ width: Int) -> Int? {
        var value = 0
        for i in start..<start + width {
            guard let d = digit(s[i]) else { return nil }
            value = value * 10 + d
        }
        return value
    }

    /// Writes ASCII into a string's uninitialized buffer.
    private struct Writer {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        var count = 0

        mutating func byte(_ b: UInt8) {
            buffer[count] = b
            count += 1
        }

        mutating func digits(_ value: Int, _ width: Int) {
            var v = value
            for i in stride(from: count + width - 1, through: count, by: -1) {
                buffer[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
            count += width
        }

        mutating func dateAndTime(_ c: Components) {
            digits(c.year, 4)
            byte(UInt8(ascii: "-"))
            digits(c.month, 2)
            byte(UInt8(ascii: "-"))
            digits(c.day, 2)
            byte(UInt8(ascii: "T"))
            digits(c.hour, 2)
            byte(UInt8(ascii: ":"))
            digits(c.minute, 2)
            byte(UInt8(ascii: ":"))
            digits(c.second, 2)
        }
    }
}
