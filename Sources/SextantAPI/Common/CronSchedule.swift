import Foundation

/// A standard five-field cron schedule (`minute hour day-of-month month day-of-week`), as
/// Kubernetes CronJobs accept it: lists, ranges, steps, month and weekday names, `?` for
/// "any", and the macros `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
/// `@midnight` and `@hourly`.
public struct CronSchedule: Sendable, Hashable {
    /// Why a schedule does not parse.
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// The pattern used in the CRD schema; the full check is `CronSchedule(parsing:)`.
    public static let schemaPattern = "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|\\S+(\\s+\\S+){4})$"

    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    /// Whether day-of-month / day-of-week were `*` or `?` (cron ORs the two when both are restricted).
    let dayOfMonthIsAny: Bool
    let dayOfWeekIsAny: Bool

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    private static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses a schedule, explaining the first problem found.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = CronSchedule.macros[trimmed.lowercased()] ?? trimmed
        if expanded.hasPrefix("@") { throw ParseError(description: "unknown macro \(trimmed)") }
        let fields = expanded.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(description: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        minutes = try CronSchedule.field(fields[0], name: "minute", range: 0...59)
        hours = try CronSchedule.field(fields[1], name: "hour", range: 0...23)
        daysOfMonth = try CronSchedule.field(fields[2], name: "day-of-month", range: 1...31)
        months = try CronSchedule.field(fields[3], name: "month", range: 1...12, names: CronSchedule.monthNames, firstNameValue: 1)
        let weekdays = try CronSchedule.field(fields[4], name: "day-of-week", range: 0...7, names: CronSchedule.weekdayNames, firstNameValue: 0)
        daysOfWeek = Set(weekdays.map { $0 % 7 })
        dayOfMonthIsAny = fields[2] == "*" || fields[2] == "?"
        dayOfWeekIsAny = fields[4] == "*" || fields[4] == "?"
    }

    private static func field(
        _ text: String, name: String, range: ClosedRange<Int>, names: [String] = [], firstNameValue: Int = 0
    ) throws -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw ParseError(description: "empty list item in \(name) field \"\(text)\"") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw ParseError(description: "\(name) field \"\(part)\" has more than one '/'") }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else {
                    throw ParseError(description: "\(name) step \"\(pieces[1])\" must be a positive number")
                }
                step = parsed
            }
            let base = pieces[0]
            var lower: Int
            var upper: Int
            if base == "*" || base == "?" {
                lower = range.lowerBound
                upper = range.upperBound
            } else {
                let bounds = base.split(separator: "-", omittingEmptySubsequences: false)
                guard bounds.count <= 2 else { throw ParseError(description: "\(name) range \"\(base)\" is malformed") }
                lower = try value(bounds[0], name: name, range: range, names: names, firstNameValue: firstNameValue)
                upper =
                    bounds.count == 2
                    ? try value(bounds[1], name: name, range: range, names: names, firstNameValue: firstNameValue)
                    : (pieces.count == 2 ? range.upperBound : lower)
                guard lower <= upper else {
                    throw ParseError(description: "\(name) range \"\(base)\" starts after it ends")
                }
            }
            values.formUnion(stride(from: lower, through: upper, by: step))
        }
        return values
    }

    private static func value(
        _ text: Substring, name: String, range: ClosedRange<Int>, names: [String], firstNameValue: Int
    ) throws -> Int {
        if let index = names.firstIndex(of: text.uppercased()) { return index + firstNameValue }
        guard let number = Int(text) else { throw ParseError(description: "\(name) value \"\(text)\" is not a number") }
        guard range.contains(number) else {
            throw ParseError(description: "\(name) value \(number) is outside \(range.lowerBound)-\(range.upperBound)")
        }
        return number
    }

    /// The first minute strictly after `date` at which the schedule fires, in `timeZone`;
    /// `nil` if none within five years (e.g. `0 0 30 2 *`).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard var candidate = calendar.date(bySetting: .second, value: 0, of: date.addingTimeInterval(60)) else { return nil }
        if candidate <= date { candidate = candidate.addingTimeInterval(60) }
        let limit = date.addingTimeInterval(5 * 366 * 24 * 3600)
        while candidate < limit {
            let parts = calendar.dateComponents([.month, .day, .weekday, .hour, .minute], from: candidate)
            guard months.contains(parts.month!) else {
                candidate = startOfNextMonth(candidate, calendar)
                continue
            }
            guard dayMatches(day: parts.day!, weekday: parts.weekday! - 1) else {
                candidate = calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: candidate))!
                continue
            }
            guard hours.contains(parts.hour!) else {
                candidate = candidate.addingTimeInterval(Double(60 - parts.minute!) * 60)
                continue
            }
            guard minutes.contains(parts.minute!) else {
                candidate = candidate.addingTimeInterval(60)
                continue
            }
            return candidate
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        switch (dayOfMonthIsAny, dayOfWeekIsAny) {
        case (true, true): true
        case (false, true): daysOfMonth.contains(day)
        case (true, false): daysOfWeek.contains(weekday)
        case (false, false): daysOfMonth.contains(day) || daysOfWeek.contains(weekday)
        }
    }

    private func startOfNextMonth(_ date: Date, _ calendar: Calendar) -> Date {
        let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
        return calendar.date(byAdding: .month, value: 1, to: start)!
    }
}
