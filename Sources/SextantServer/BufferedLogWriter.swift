import Foundation

/// Writes log lines to a file descriptor from a background thread, in batches.
///
/// A request log line is appended to a buffer under a lock; a writer thread takes the whole
/// buffer and writes it with one system call, then waits `batchInterval` so that under load
/// many lines share each write. An idle writer is woken by the first new line, so a quiet
/// server's lines appear at once. Pending lines are written at process exit; a crash can lose
/// at most the last `batchInterval` of lines. When the destination blocks (a stalled log
/// pipe), at most `maxPendingBytes` wait; later lines are dropped and counted, and a line saying
/// how many were dropped is written once the destination accepts data again.
public final class BufferedLogWriter: @unchecked Sendable {
    /// The process's standard error.
    public static let standardError = BufferedLogWriter(fileDescriptor: 2)

    private let fileDescriptor: Int32
    private let batchInterval: TimeInterval
    private let maxPendingBytes: Int
    /// Held while a batch is taken and written, so batches reach the file in order.
    private let writeLock = NSLock()
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var dropped = 0
    private var writerIsWaiting = false

    /// Creates a writer for `fileDescriptor`, starting its thread. The descriptor stays open.
    public init(fileDescriptor: Int32, batchInterval: TimeInterval = 0.01, maxPendingBytes: Int = 8 << 20) {
        self.fileDescriptor = fileDescriptor
        self.batchInterval = batchInterval
        self.maxPendingBytes = maxPendingBytes
        let thread = Thread { [self] in writeForever() }
        thread.name = "log-writer"
        thread.start()
        if fileDescriptor == 2 { atexit { BufferedLogWriter.standardError.flush() } }
    }

    /// Queues one line (with its newline).
    public func write(_ line: [UInt8]) {
        condition.lock()
        let wake = writerIsWaiting && pending.isEmpty
        if pending.count + line.count <= maxPendingBytes {
            pending.append(contentsOf: line)
        } else {
            dropped += 1
        }
        condition.unlock()
        if wake { condition.signal() }
    }

    /// Writes every queued line now, on the caller's thread.
    public func flush() {
        writeLock.lock()
        writeAll(takePending())
        writeLock.unlock()
    }

    private func writeForever() {
        while true {
            condition.lock()
            while pending.isEmpty {
                writerIsWaiting = true
                condition.wait()
                writerIsWaiting = false
            }
            condition.unlock()
            flush()
            Thread.sleep(forTimeInterval: batchInterval)
        }
    }

    private func takePending() -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        var batch = pending
        if dropped > 0 {
            batch.append(contentsOf: "{\"level\":\"warning\",\"msg\":\"\(dropped) log lines dropped: the log destination did not keep up\"}\n".utf8)
            dropped = 0
        }
        pending = []
        pending.reserveCapacity(batch.count)
        return batch
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
