import Foundation
import Testing

@testable import SextantAPI

@Suite("Cron schedules")
struct CronScheduleTests {
    static let utc = TimeZone(identifier: "UTC")!

    static func date(_ text: String) -> Date { try! Date.ISO8601FormatStyle().parse(text) }
    static func text(_ date: Date?) -> String? { date.map { $0.formatted(Date.ISO8601FormatStyle()) } }

    @Test(
        "valid schedules parse",
        arguments: [
            "* * * * *", "0 3 * * MON", "*/15 9-17 * * 1-5", "0 0 1,15 * *", "30 2 * JAN-MAR SUN", "0 0 ? * 7",
            "5-55/10 * * * *", "@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "  0 0 * * *  ",
        ])
    func valid(expression: String) throws {
        _ = try CronSchedule(parsing: expression)
    }

    @Test(
        "invalid schedules are rejected with a reason",
        arguments: [
            ("61 * * * *", "minute value 61 is outside 0-59"),
            ("* 24 * * *", "hour value 24 is outside 0-23"),
            ("* * 0 * *", "day-of-month value 0 is outside 1-31"),
            ("* * * 13 *", "month value 13 is outside 1-12"),
            ("* * * * 8", "day-of-week value 8 is outside 0-7"),
            ("* * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 3"),
            ("* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 6"),
            ("*/0 * * * *", "minute step \"0\" must be a positive number"),
            ("5-1 * * * *", "minute range \"5-1\" starts after it ends"),
            ("a * * * *", "minute value \"a\" is not a number"),
            ("1,,2 * * * *", "empty list item in minute field \"1,,2\""),
            ("@fortnightly", "unknown macro @fortnightly"),
        ])
    func invalid(expression: String, reason: String) {
        #expect(throws: CronSchedule.ParseError(description: reason)) { try CronSchedule(parsing: expression) }
    }

    @Test(
        "next run times",
        arguments: [
            ("0 3 * * MON", "2026-11-23T18:38:00Z", "2026-11-30T03:00:00Z"),
            ("*/15 * * * *", "2026-11-23T18:38:00Z", "2026-11-23T18:45:00Z"),
            ("0 0 1 * *", "2026-11-23T18:38:00Z", "2026-12-01T00:00:00Z"),
            ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
            ("@hourly", "2026-11-23T18:00:00Z", "2026-11-23T19:00:00Z"),
            // Day-of-month and day-of-week both restricted: either matches (Vixie cron).
            ("0 12 1 * FRI", "2026-11-23T00:00:00Z", "2026-11-27T12:00:00Z"),
            ("0 0 31 12 *", "2026-12-31T00:00:00Z", "2027-12-31T00:00:00Z"),
        ])
    func next(expression: String, after: String, expected: String) throws {
        let schedule = try CronSchedule(parsing: expression)
        #expect(Self.text(schedule.next(after: Self.date(after), in: Self.utc)) == expected)
    }

    @Test("time zones and daylight saving time")
    func timeZones() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let schedule = try CronSchedule(parsing: "0 3 * * *")
        // 03:00 in Berlin is 02:00 UTC in winter and 01:00 UTC in summer.
        #expect(Self.text(schedule.next(after: Self.date("2026-11-23T12:00:00Z"), in: berlin)) == "2026-11-24T02:00:00Z")
        #expect(Self.text(schedule.next(after: Self.date("2026-07-01T12:00:00Z"), in: berlin)) == "2026-07-02T01:00:00Z")
        // 02:30 does not exist on the spring-forward day; the next run is the following day's.
        let skipped = try CronSchedule(parsing: "30 2 * * *")
        #expect(Self.text(skipped.next(after: Self.date("2026-03-28T12:00:00Z"), in: berlin)) == "2026-03-30T00:30:00Z")
    }

    @Test("impossible dates never fire")
    func impossible() throws {
        let schedule = try CronSchedule(parsing: "0 0 30 2 *")
        #expect(schedule.next(after: Self.date("2026-01-01T00:00:00Z"), in: Self.utc) == nil)
    }
}

@Suite("Durations")
struct DurationTests {
    @Test("parse", arguments: [("30s", 30.0), ("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("2h", 7200), ("1m30s", 90)])
    func parse(text: String, seconds: Double) {
        #expect(DurationString.seconds(text) == seconds)
    }

    @Test("reject", arguments: ["", "5", "1d", "5 m", "-5s", "1.5h", "m5", "5mm"])
    func reject(text: String) {
        #expect(DurationString.seconds(text) == nil)
    }
}
