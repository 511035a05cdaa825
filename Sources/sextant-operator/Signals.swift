import Foundation

/// Waits for SIGTERM or SIGINT, so the operator stops cleanly (releasing its Lease) when a pod
/// is deleted or a person presses Ctrl-C.
enum Signals {
    static func waitForTermination() async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let sources = [SIGTERM, SIGINT].map { signalNumber -> DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { continuation.yield() }
            source.resume()
            return source
        }
        for await _ in stream { break }
        sources.forEach { $0.cancel() }
    }
}
