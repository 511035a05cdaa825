import Foundation

/// Recent request outcomes with their times, so a caller can ask "how did the last N seconds
/// go?" — the window a canary analysis judges. Bounded: the oldest outcomes are evicted first.
public struct OutcomeWindow: Sendable {
    /// One request: when it finished (seconds on a monotonic clock), how long it took, whether it failed.
    struct Outcome: Sendable {
        var time: Double
        var seconds: Double
        var failed: Bool
    }

    /// Counts and latency percentiles of the outcomes in a window.
    public struct Summary: Sendable, Equatable {
        public var requests: Int
        public var errors: Int
        public var p50: Double?
        public var p95: Double?
        public var p99: Double?
        /// Mean and (n−1) variance of the latencies, in seconds.
        public var mean: Double?
        public var variance: Double?
    }

    private var outcomes: [Outcome] = []
    private var next = 0
    public let capacity: Int

    public init(capacity: Int = 20_000) { self.capacity = max(1, capacity) }

    /// Records one finished request.
    public mutating func add(time: Double, seconds: Double, failed: Bool) {
        let outcome = Outcome(time: time, seconds: seconds, failed: failed)
        if outcomes.count < capacity { outcomes.append(outcome) } else { outcomes[next] = outcome }
        next = (next + 1) % capacity
    }

    /// The outcomes that finished at or after `since`.
    public func summary(since: Double) -> Summary {
        let recent = outcomes.filter { $0.time >= since }
        let latencies = recent.map(\.seconds).sorted()
        func percentile(_ p: Double) -> Double? {
            guard !latencies.isEmpty else { return nil }
            let rank = Int((p * Double(latencies.count)).rounded(.up))
            return latencies[min(max(rank - 1, 0), latencies.count - 1)]
        }
        let mean = latencies.isEmpty ? nil : latencies.reduce(0, +) / Double(latencies.count)
        let variance = latencies.count < 2 ? nil : latencies.reduce(0) { $0 + ($1 - mean!) * ($1 - mean!) } / Double(latencies.count - 1)
        return Summary(
            requests: recent.count, errors: recent.filter(\.failed).count, p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99),
            mean: mean, variance: variance)
    }

    /// Seconds on the monotonic clock the window uses.
    public static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
