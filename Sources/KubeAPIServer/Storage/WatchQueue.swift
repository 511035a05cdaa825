import Synchronization

/// The events waiting for one watch's client. The store pushes events as changes happen; the
/// HTTP writer takes everything pending at once and writes it in one go, so a busy watch costs
/// one wake-up per batch rather than one per event. A client that falls more than `limit`
/// events behind has its watch ended (it resumes or re-lists), never silently thinned.
final class WatchQueue: Sendable {
    private struct State {
        var events: [WatchEvent] = []
        var finished = false
        var waiter: CheckedContinuation<[WatchEvent]?, Never>?
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// Adds an event; returns false when the watch is over (finished, or just overflowed).
    @discardableResult
    func push(_ event: WatchEvent) -> Bool {
        let (waiter, batch, accepted): (CheckedContinuation<[WatchEvent]?, Never>?, [WatchEvent]?, Bool) = state.withLock { state in
            guard !state.finished else { return (nil, nil, false) }
            guard state.events.count < limit else {
                state.finished = true
                state.events.removeAll()
                let waiter = state.waiter
                state.waiter = nil
                return (waiter, nil, false)
            }
            state.events.append(event)
            guard let waiter = state.waiter else { return (nil, nil, true) }
            state.waiter = nil
            defer { state.events.removeAll(keepingCapacity: true) }
            return (waiter, state.events, true)
        }
        if let waiter { waiter.resume(returning: batch) }
        return accepted
    }

    /// Ends the watch: the consumer gets what is pending, then nil.
    func finish() {
        let waiter: CheckedContinuation<[WatchEvent]?, Never>? = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// Everything pending, waiting for at least one event; nil when the watch is over or the
    /// calling task is cancelled.
    func next() async -> [WatchEvent]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: [WatchEvent]?? = state.withLock { state in
                    if !state.events.isEmpty {
                        defer { state.events.removeAll(keepingCapacity: true) }
                        return .some(state.events)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
