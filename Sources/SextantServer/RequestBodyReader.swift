import Hummingbird
import NIOCore

/// What reading a request body gave.
enum RequestBodyRead: Sendable {
    /// The whole body.
    case body(ByteBuffer)
    /// The body is larger than the limit.
    case tooLarge
    /// The rest of the body did not arrive within the request timeout.
    case timedOut
    /// The connection failed while the body was read.
    case failed
}

/// Reads request bodies under a size limit and a timeout, without a timer on the common path.
///
/// Almost every inference request arrives in one piece: the head and the whole body in the same
/// read, so the body is complete after its first part and reading it costs no timer and no
/// extra task. Only a body still arriving after its first part is read under `timeout` (a
/// racing sleeper in a task group), which is what bounds slow uploads. A client that stalls
/// before sending any body byte is bounded by the connection's idle timeout instead
/// (`ServeConfiguration.idleTimeout`).
struct RequestBodyReader: Sendable {
    let maxBytes: Int
    let timeout: Duration

    func read(_ request: Request) async -> RequestBodyRead {
        let declaredLength = request.headers[.contentLength].flatMap(Int.init)
        var iterator = request.body.makeAsyncIterator()
        let first: ByteBuffer
        do {
            guard let part = try await iterator.next() else { return .body(ByteBuffer()) }
            first = part
        } catch {
            return .failed
        }
        guard first.readableBytes <= maxBytes else { return .tooLarge }
        if let declaredLength, declaredLength == first.readableBytes {
            // Complete: the end of the request was decoded with its last bytes, so this returns at once.
            do { _ = try await iterator.next() } catch { return .failed }
            return .body(first)
        }
        return await readRest(after: first, from: iterator)
    }

    /// Reads the remaining parts while a sleeper counts down the timeout.
    private func readRest(after first: ByteBuffer, from iterator: RequestBody.AsyncIterator) async -> RequestBodyRead {
        let rest = RemainingBody(iterator: iterator, collected: first)
        let (maxBytes, timeout) = (maxBytes, timeout)
        return await withTaskGroup(of: RequestBodyRead?.self) { group in
            group.addTask {
                do {
                    while let part = try await rest.iterator.next() {
                        guard rest.collected.readableBytes + part.readableBytes <= maxBytes else { return .tooLarge }
                        rest.collected.writeImmutableBuffer(part)
                    }
                    return .body(rest.collected)
                } catch {
                    return Task.isCancelled ? nil : .failed
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .timedOut
        }
    }
}

/// The body iterator and what it read so far, handed to the one child task that reads the rest
/// (the parent only waits for that task), hence `@unchecked Sendable`.
private final class RemainingBody: @unchecked Sendable {
    var iterator: RequestBody.AsyncIterator
    var collected: ByteBuffer

    init(iterator: RequestBody.AsyncIterator, collected: ByteBuffer) {
        self.iterator = iterator
        self.collected = collected
    }
}
