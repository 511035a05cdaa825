import Foundation

/// A point in time written as RFC 3339 text with second precision (`metav1.Time`),
/// e.g. `2026-11-23T18:38:23Z`.
public struct KubeTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The instant, truncated to whole seconds as the wire format is.
    public let date: Date

    /// Creates a time from a date, dropping fractions of a second.
    public init(_ date: Date) {
        self.date = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }

    /// The current time.
    public static func now() -> KubeTime { KubeTime(Date()) }

    /// Parses RFC 3339 text (`2026-11-23T18:38:23Z`, fractional seconds and offsets accepted).
    public init?(rfc3339 text: String) {
        guard let date = KubeTime.parse(text) else { return nil }
        self.init(date)
    }

    /// The RFC 3339 form, always in UTC.
    public var description: String {
        var formatStyle = Date.ISO8601FormatStyle()
        formatStyle.timeZone = TimeZone(identifier: "UTC")!
        return date.formatted(formatStyle)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = KubeTime.parse(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not an RFC 3339 time such as 2026-01-02T15:04:05Z")
        }
        self.init(date)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: KubeTime, rhs: KubeTime) -> Bool { lhs.date < rhs.date }

    private static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        return try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)
    }
}
