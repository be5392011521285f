@testable import ExecutorControllers
import Foundation
import Testing

/// ``HTTPDate`` (a webhook's `Retry-After`) against RFC 9110's examples and Foundation's
/// `DateFormatter`, which it replaced.
@Suite struct HTTPDateTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-29

    /// Foundation's writer of IMF-fixdates, the oracle.
    static func imfFixdate() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }

    @Test("the three forms of RFC 9110's example date name the same instant")
    func rfcExamples() {
        let expected = Date(timeIntervalSince1970: 784_111_777)  // 1994-11-06T08:49:37Z
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: Self.now) == expected)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: Self.now) == expected)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994", now: Self.now) == expected)
    }

    @Test("reads 2,000 IMF-fixdates as DateFormatter writes them, 1970 to 2100")
    func matchesDateFormatter() {
        let formatter = Self.imfFixdate()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let date = Date(timeIntervalSince1970: TimeInterval((state >> 32) % 4_102_444_800))
            let text = formatter.string(from: date)
            #expect(HTTPDate.parse(text, now: Self.now) == date, "\(text)")
        }
    }

    @Test("an RFC 850 year more than 50 years ahead is the latest past year with those digits")
    func twoDigitYears() {
        #expect(HTTPDate.parse("Monday, 01-Jan-76 00:00:00 GMT", now: Self.now).map { yearInGMT($0) } == 2076)
        #expect(HTTPDate.parse("Friday, 01-Jan-77 00:00:00 GMT", now: Self.now).map { yearInGMT($0) } == 1977)
        #expect(HTTPDate.parse("Friday, 01-Jan-27 00:00:00 GMT", now: Self.now).map { yearInGMT($0) } == 2027)
    }

    @Test("refuses what is not an HTTP date, or names no date", arguments: [
        "", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 30 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Noe 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, +6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT", "1994-11-06T08:49:37Z", "Sunday, 06-Nov-1994 08:49:37 GMT", "Sun Nov 6 08:49:37 94",
    ])
    func refuses(_ text: String) {
        #expect(HTTPDate.parse(text, now: Self.now) == nil)
    }

    @Test("Retry-After in seconds or as a date becomes the wait from now; a date past is no wait")
    func retryAfter() {
        #expect(WebhookDelivery.retryAfter("120", now: Self.now) == .seconds(120))
        #expect(WebhookDelivery.retryAfter(" 7 ", now: Self.now) == .seconds(7))
        let later = Self.now.addingTimeInterval(90)
        let formatter = Self.imfFixdate()
        #expect(WebhookDelivery.retryAfter(formatter.string(from: later), now: Self.now) == .seconds(90))
        #expect(WebhookDelivery.retryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now: Self.now) == .zero)
        #expect(WebhookDelivery.retryAfter("soon", now: Self.now) == nil)
        #expect(WebhookDelivery.retryAfter("-5", now: Self.now) == nil)
    }
}

private func yearInGMT(_ date: Date) -> Int {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "GMT")!
    return calendar.component(.year, from: date)
}
