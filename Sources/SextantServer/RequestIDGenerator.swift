import Synchronization

/// Ids for inference requests that bring none, formatted like UUIDs: a random 64-bit prefix
/// chosen once per process and a counter. Unique within the process and, by the prefix, across
/// replicas; made without a system call (Foundation's `UUID()` reads `/dev/urandom` on every
/// call on Linux, which showed up in the request path's profile).
final class RequestIDGenerator: Sendable {
    private let prefix: UInt64
    private let counter = Atomic<UInt64>(0)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    init() { prefix = UInt64.random(in: .min ... .max) }

    /// The next id, e.g. `3f9a1c2e-77b0-4d21-0000-00000000002a`.
    func next() -> String {
        let sequence = counter.add(1, ordering: .relaxed).newValue
        var bytes = [UInt8]()
        bytes.reserveCapacity(36)
        func appendHex(_ value: UInt64, digits: Int) {
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                bytes.append(Self.hexDigits[Int((value >> UInt64(shift)) & 0xF)])
            }
        }
        appendHex(prefix >> 32, digits: 8)
        bytes.append(UInt8(ascii: "-"))
        appendHex(prefix >> 16, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        appendHex(prefix, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        appendHex(sequence >> 48, digits: 4)
        bytes.append(UInt8(ascii: "-"))
        appendHex(sequence, digits: 12)
        return String(decoding: bytes, as: UTF8.self)
    }
}
