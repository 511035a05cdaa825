/// The events of one watch. Each iteration opens its own watch request, and the request ends
/// as soon as the iteration does: when the loop finishes, breaks, throws, or its task is
/// cancelled (the iterator holds the only reference to the underlying stream).
public struct WatchStream<Element: Sendable>: AsyncSequence, Sendable {
    private let open: @Sendable () -> AsyncThrowingStream<Element, Error>

    init(_ open: @escaping @Sendable () -> AsyncThrowingStream<Element, Error>) {
        self.open = open
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<Element, Error>.Iterator {
        open().makeAsyncIterator()
    }
}
