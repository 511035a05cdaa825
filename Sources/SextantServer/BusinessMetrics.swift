import Foundation
import KubeCore

/// Running count, mean and variance of one business metric posted with feedback (Welford's
/// algorithm: numerically stable, constant memory).
public struct RunningMoments: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var mean = 0.0
    private var sumOfSquares = 0.0

    public init() {}

    public mutating func add(_ value: Double) {
        count += 1
        let delta = value - mean
        mean += delta / Double(count)
        sumOfSquares += delta * (value - mean)
    }

    /// The (n−1) sample variance; nil below two values.
    public var variance: Double? { count > 1 ? sumOfSquares / Double(count - 1) : nil }
}

/// Business metrics by name (e.g. `revenue`, `clicked`), as posted with feedback:
/// `{"id": "...", "label": ..., "metrics": {"revenue": 12.5}}`. Bounded in the number of names.
public struct BusinessMetrics: Sendable {
    public static let maxNames = 32
    /// A letter, then up to 62 letters, digits, `_`, `.` or `-`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63, first.isASCII, first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)) }
    }

    public private(set) var byName: [String: RunningMoments] = [:]

    public init() {}

    /// Adds the values of one feedback item; returns why it was refused, if it was.
    public mutating func add(_ values: [String: JSONValue]) -> String? {
        var numbers: [(name: String, value: Double)] = []
        for (name, value) in values {
            guard Self.isValidName(name) else { return "metric name '\(name)' must start with a letter and use letters, digits, '_', '.', '-'" }
            guard let number = value.doubleValue, number.isFinite else { return "metric '\(name)' must be a finite number" }
            guard byName[name] != nil || byName.count < Self.maxNames else { return "at most \(Self.maxNames) business metrics are kept" }
            numbers.append((name, number))
        }
        for (name, value) in numbers {
            byName[name, default: RunningMoments()].add(value)
        }
        return nil
    }
}
