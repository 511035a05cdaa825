import Foundation

/// A fixed-size ring of recent values with percentile and mean queries.
public struct RollingWindow: Sendable {
    private var values: [Double] = []
    private var next = 0
    /// Capacity.
    public let capacity: Int

    /// Creates an empty window.
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds a value, evicting the oldest when full.
    public mutating func add(_ value: Double) {
        if values.count < capacity { values.append(value) } else { values[next] = value }
        next = (next + 1) % capacity
    }

    /// Number of values held.
    public var count: Int { values.count }

    /// Mean of the values, nil when empty.
    public var mean: Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }

    /// Nearest-rank percentile (`p` in 0...1), nil when empty.
    public func percentile(_ p: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank - 1, 0), sorted.count - 1)]
    }
}

/// Recent predictions by request id, bounded (oldest evicted first), for online accuracy.
public struct PredictionMemory: Sendable {
    /// A remembered prediction: labels (classifier) or values (regressor), one per row.
    public enum Rows: Sendable, Equatable {
        case labels([String])
        case values([Double])
    }

    private var entries: [String: Rows] = [:]
    private var order: [String] = []
    private var head = 0
    /// Capacity.
    public let capacity: Int

    /// Creates an empty memory.
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Remembers `rows` for `id`.
    public mutating func remember(_ id: String, _ rows: Rows) {
        if entries[id] == nil {
            order.append(id)
            if order.count - head > capacity {
                entries[order[head]] = nil
                head += 1
                if head > capacity {
                    order.removeFirst(head)
                    head = 0
                }
            }
        }
        entries[id] = rows
    }

    /// The prediction for `id`, if still held.
    public func lookup(_ id: String) -> Rows? { entries[id] }
}
