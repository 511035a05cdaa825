import Foundation

/// The queue between events and reconciles, as controller-runtime's: keys are de-duplicated
/// while waiting; a key being processed is never handed to a second worker (a re-add waits
/// until `done`); delayed adds keep the earliest deadline; failing keys back off exponentially
/// per key (base doubling up to a cap), and all back-offs share an overall token-bucket limit.
public actor WorkQueue<Key: Hashable & Sendable> {
    private var order: [Key] = []
    private var head = 0
    private var waiting: Set<Key> = []
    private var processing: Set<Key> = []
    private var addedAt: [Key: ContinuousClock.Instant] = [:]
    private var failures: [Key: Int] = [:]
    private var delayed: [Key: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)] = [:]
    private var waiters: [CheckedContinuation<Key?, Never>] = []
    private var shuttingDown = false
    private var tokens: Double
    private var lastRefill = ContinuousClock.now

    let baseDelay: Duration
    let maxDelay: Duration
    let ratePerSecond: Double
    let burst: Double
    let metrics: RuntimeMetrics?
    let name: String

    public init(
        name: String = "queue", baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(300), ratePerSecond: Double = 10, burst: Double = 100,
        metrics: RuntimeMetrics? = nil
    ) {
        self.name = name
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.tokens = burst
        self.metrics = metrics
    }

    /// Keys waiting for a worker.
    public var depth: Int { order.count - head }

    /// Adds a key now.
    public func add(_ key: Key) {
        guard !shuttingDown, !waiting.contains(key) else { return }
        waiting.insert(key)
        addedAt[key] = ContinuousClock.now
        if !processing.contains(key) { push(key) }
    }

    /// Adds a key after `delay`; an earlier pending delayed add of the same key wins.
    public func add(_ key: Key, after delay: Duration) {
        guard !shuttingDown else { return }
        guard delay > .zero else { return add(key) }
        let deadline = ContinuousClock.now + delay
        if let existing = delayed[key], existing.deadline <= deadline { return }
        delayed[key]?.task.cancel()
        delayed[key] = (
            deadline,
            Task { [weak self] in
                try? await Task.sleep(until: deadline)
                guard !Task.isCancelled else { return }
                await self?.fireDelayed(key, deadline)
            }
        )
    }

    /// Adds a key after its per-key exponential back-off (and the overall rate limit).
    public func addRateLimited(_ key: Key) {
        let count = failures[key, default: 0]
        failures[key] = count + 1
        let exponential = baseDelay * (1 << min(count, 30))
        var delay = min(exponential, maxDelay)
        refill()
        tokens -= 1
        if tokens < 0 { delay = max(delay, .seconds(-tokens / ratePerSecond)) }
        add(key, after: delay)
    }

    /// Forgets a key's failures (after a success).
    public func forget(_ key: Key) { failures[key] = nil }

    /// How many times a key failed in a row.
    public func failureCount(_ key: Key) -> Int { failures[key] ?? 0 }

    /// The next key to process, waiting for one; nil once the queue shuts down.
    public func next() async -> Key? {
        if let key = pop() { return key }
        guard !shuttingDown else { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// Marks a key processed; if it was added meanwhile, it is queued again.
    public func done(_ key: Key) {
        processing.remove(key)
        if waiting.contains(key) { push(key) }
    }

    /// Stops handing out keys; waiting workers get nil.
    public func shutdown() {
        shuttingDown = true
        for (_, entry) in delayed { entry.task.cancel() }
        delayed.removeAll()
        let pending = waiters
        waiters.removeAll()
        for waiter in pending { waiter.resume(returning: nil) }
    }

    private func fireDelayed(_ key: Key, _ deadline: ContinuousClock.Instant) {
        guard delayed[key]?.deadline == deadline else { return }
        delayed[key] = nil
        add(key)
    }

    private func push(_ key: Key) {
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            take(key)
            waiter.resume(returning: key)
        } else {
            order.append(key)
            metrics?.queueDepth.set(Double(depth), ["controller": name])
        }
    }

    private func pop() -> Key? {
        guard head < order.count else { return nil }
        let key = order[head]
        head += 1
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
        take(key)
        metrics?.queueDepth.set(Double(depth), ["controller": name])
        return key
    }

    private func take(_ key: Key) {
        waiting.remove(key)
        processing.insert(key)
        if let added = addedAt.removeValue(forKey: key) {
            let latency = ContinuousClock.now - added
            metrics?.queueLatency.observe(Double(latency.components.seconds) + Double(latency.components.attoseconds) / 1e18, ["controller": name])
        }
    }

    private func refill() {
        let now = ContinuousClock.now
        let elapsed = now - lastRefill
        lastRefill = now
        tokens = min(burst, tokens + (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * ratePerSecond)
    }
}
