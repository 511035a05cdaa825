import Foundation

/// The `Date` header value for now, in the IMF-fixdate form of RFC 9110 (`Fri, 04 Dec 2026
/// 15:19:16 GMT`), formatted again only when the second changes. One per connection handler, so
/// it needs no lock.
struct HTTPDateCache {
    private var second = -1
    private var text = ""

    /// The current time as an HTTP date.
    mutating func now() -> String {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &clock)
        if clock.tv_sec != second {
            second = clock.tv_sec
            text = Self.format(epochSeconds: second)
        }
        return text
    }

    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `seconds` since 1970 in UTC as an IMF-fixdate.
    static func format(epochSeconds seconds: Int) -> String {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(dayNames[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(monthNames[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }
}
