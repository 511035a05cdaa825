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
///
/// Ids the server made itself (`RequestIDGenerator`) are held by their sequence number in a ring
/// (no hashing on the request path); ids a client chose are held in a dictionary. Each kind
/// keeps its last `capacity` predictions.
public struct PredictionMemory: Sendable {
    /// A remembered prediction: labels (classifier) or values (regressor), one per row.
    public enum Rows: Sendable, Equatable {
        case labels([String])
        case values([Double])
    }

    private var entries: [String: Rows] = [:]
    /// The client ids held, oldest at `oldest`, as a ring of `capacity` places.
    private var order: [String] = []
    private var oldest = 0
    /// Predictions for generated ids, at `sequence % capacity`.
    private var generated: [(sequence: UInt64, rows: Rows)?] = []
    /// Capacity.
    public let capacity: Int

    /// Creates an empty memory.
    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Remembers `rows` for a client's `id` (a repeated id replaces its rows); the oldest id is
    /// forgotten when the memory is full.
    public mutating func remember(_ id: String, _ rows: Rows) {
        guard entries.updateValue(rows, forKey: id) == nil else { return }
        if order.count < capacity {
            order.append(id)
            return
        }
        entries[order[oldest]] = nil
        order[oldest] = id
        oldest = (oldest + 1) % capacity
    }

    /// Remembers `rows` for the generated id with this sequence number, replacing the one
    /// `capacity` generated ids before it.
    public mutating func remember(sequence: UInt64, _ rows: Rows) {
        if generated.isEmpty { generated = Array(repeating: nil, count: capacity) }
        generated[Int(sequence % UInt64(capacity))] = (sequence, rows)
    }

    /// Remembers `rows` for `id`: by `sequence` when the server generated the id, by name otherwise.
    public mutating func remember(_ id: String, sequence: UInt64?, _ rows: Rows) {
        if let sequence { remember(sequence: sequence, rows) } else { remember(id, rows) }
    }

    /// The prediction for the generated id with this sequence number, if still held.
    public func lookup(sequence: UInt64) -> Rows? {
        guard !generated.isEmpty, let entry = generated[Int(sequence % UInt64(capacity))], entry.sequence == sequence else { return nil }
        return entry.rows
    }

    /// The prediction for a client's `id`, if still held.
    public func lookup(_ id: String) -> Rows? { entries[id] }
}
