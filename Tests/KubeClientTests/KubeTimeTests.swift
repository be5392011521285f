import Foundation
import Testing

@testable import KubeClient

/// ``KubeTime`` against Foundation's ISO 8601 style, which it replaced, and against RFC 3339.
@Suite struct KubeTimeTests {
    /// Dates from 1900 to 2200 with fractions of a second, the same every run.
    static func dates(_ count: Int) -> [Date] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Double(state >> 11) / Double(1 << 53)
            return Date(timeIntervalSince1970: -2_208_988_800 + unit * 9_467_280_000)
        }
    }

    @Test("formats 20,000 dates from 1900 to 2200 as Foundation's ISO 8601 style does, and parses them back to the second")
    func matchesFoundation() throws {
        let style = Date.ISO8601FormatStyle()
        for date in Self.dates(20_000) {
            let text = KubeTime.format(date)
            #expect(text == style.format(date))
            let parsed = try #require(KubeTime.parse(text), "\(text)")
            #expect(parsed.timeIntervalSince1970 == date.timeIntervalSince1970.rounded(.down))
        }
    }

    @Test("MicroTime keeps six digits of the fraction, rounded down, and parses back as Foundation parses it")
    func micro() throws {
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: 1_764_633_600.25)) == "2025-12-02T00:00:00.250000Z")
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for date in Self.dates(2_000) {
            let text = KubeTime.formatMicro(date)
            let ours = try #require(KubeTime.parse(text), "\(text)")
            let foundations = try style.parse(text)
            #expect(abs(ours.timeIntervalSince(foundations)) < 1e-6, "\(text)")
            #expect(abs(ours.timeIntervalSince(date)) < 1e-6, "\(text)")
        }
    }

    @Test("parses offsets, lower-case separators and any fraction; refuses dates that do not exist and other shapes")
    func parsing() throws {
        let utc = try #require(KubeTime.parse("2026-12-01T08:00:00Z"))
        #expect(KubeTime.parse("2026-12-01T10:00:00+02:00") == utc)
        #expect(KubeTime.parse("2026-12-01T03:30:00-04:30") == utc)
        #expect(KubeTime.parse("2026-12-01t08:00:00z") == utc)
        #expect(KubeTime.parse("2026-12-01T08:00:00.5Z") == utc.addingTimeInterval(0.5))
        #expect(KubeTime.parse("2026-12-01T08:00:00.123456789Z").map { abs($0.timeIntervalSince(utc) - 0.123456789) < 1e-6 } == true)
        #expect(KubeTime.parse("2024-02-29T23:59:59Z") != nil)
        #expect(KubeTime.parse("2000-02-29T00:00:00Z") != nil)
        for bad in ["", "2026-12-01", "2026-12-01T08:00:00", "2026-12-01 08:00:00Z", "2026-12-01T08:00:00.Z", "2026-12-01T08:00:00Zjunk",
                    "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z",
                    "2026-12-00T00:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T08:60:00Z", "2026-12-01T08:00:60Z", "2026-12-01T08:00:00+0200",
                    "2026-12-01T08:00:00+24:00", "20261201T080000Z", "2026-1a-01T08:00:00Z", "+026-12-01T08:00:00Z"] {
            #expect(KubeTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("the calendar arithmetic agrees with itself across 400 years either side of 1970 and with known days")
    func calendar() {
        #expect(KubeTime.days(fromCivil: 1970, 1, 1) == 0)
        #expect(KubeTime.days(fromCivil: 2000, 3, 1) == 11_017)
        #expect(KubeTime.days(fromCivil: 1969, 12, 31) == -1)
        for days in stride(from: -146_097, through: 146_097, by: 1) {
            let (y, m, d) = KubeTime.civil(fromDays: days)
            guard KubeTime.days(fromCivil: y, m, d) == days, d >= 1, d <= KubeTime.daysIn(month: m, year: y) else {
                Issue.record("day \(days) → \(y)-\(m)-\(d)")
                return
            }
        }
    }

    @Test("the fields of a date in UTC, and the other layouts built from them")
    func components() {
        let c = KubeTime.Components(Date(timeIntervalSince1970: 1_440_938_160.75))  // 2015-08-30T12:36:00.75Z
        let fields: [Int] = [c.year, c.month, c.day, c.hour, c.minute, c.second, c.microsecond]
        #expect(fields == [2015, 8, 30, 12, 36, 0, 750_000])
        #expect(KubeTime.format(Date(timeIntervalSince1970: .nan)) == "1970-01-01T00:00:00Z", "no trap on a date no server sends")
        #expect(!KubeTime.format(Date(timeIntervalSince1970: 400_000_000_000)).isEmpty, "past year 9999: Foundation's style formats it")
        #expect(KubeTime.padded(7, width: 2) == "07")
        #expect(KubeTime.padded(2015, width: 4) == "2015")
    }
}
