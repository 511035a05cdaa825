import Synchronization

/// Ids for inference requests that bring none, formatted like UUIDs: a random 64-bit prefix
/// chosen once per process and a counter. Unique within the process and, by the prefix, across
/// replicas; made without a system call (Foundation's `UUID()` reads `/dev/urandom` on every
/// call on Linux, which showed up in the request path's profile).
final class RequestIDGenerator: Sendable {
    private let prefix: UInt64
    /// `prefix` as the id's first 19 characters (`3f9a1c2e-77b0-4d21-`), written once.
    private let prefixText: [UInt8]
    private let counter = Atomic<UInt64>(0)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    init() {
        prefix = UInt64.random(in: .min ... .max)
        var text: [UInt8] = []
        Self.appendHex(prefix >> 32, digits: 8, to: &text)
        text.append(UInt8(ascii: "-"))
        Self.appendHex(prefix >> 16, digits: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        Self.appendHex(prefix, digits: 4, to: &text)
        text.append(UInt8(ascii: "-"))
        prefixText = text
    }

    /// The next id, e.g. `3f9a1c2e-77b0-4d21-0000-00000000002a`.
    func next() -> String { nextWithSequence().id }

    /// The next id and its sequence number (what `sequence(of:)` reads back from the id).
    func nextWithSequence() -> (id: String, sequence: UInt64) {
        let sequence = counter.add(1, ordering: .relaxed).newValue
        let id = String(unsafeUninitializedCapacity: 36) { id in
            var position = 0
            for byte in prefixText {
                id[position] = byte
                position += 1
            }
            func hex(_ value: UInt64, digits: Int) {
                for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                    let digit = UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xF
                    id[position] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                    position += 1
                }
            }
            hex(sequence >> 48, digits: 4)
            id[position] = UInt8(ascii: "-")
            position += 1
            hex(sequence, digits: 12)
            return position
        }
        return (id, sequence)
    }

    private static func appendHex(_ value: UInt64, digits: Int, to text: inout [UInt8]) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
            text.append(hexDigits[Int((value >> UInt64(shift)) & 0xF)])
        }
    }

    /// The sequence number of an id this generator made, nil for any other string.
    func sequence(of id: String) -> UInt64? {
        let utf8 = Array(id.utf8)
        guard utf8.count == 36, [8, 13, 18, 23].allSatisfy({ utf8[$0] == UInt8(ascii: "-") }) else { return nil }
        func hex(_ range: Range<Int>) -> UInt64? {
            var value: UInt64 = 0
            for byte in utf8[range] {
                guard let digit = Self.hexDigits.firstIndex(of: byte) else { return nil }
                value = value << 4 | UInt64(digit)
            }
            return value
        }
        guard let high = hex(0..<8), let middle = hex(9..<13), let low = hex(14..<18),
            high << 32 | middle << 16 | low == prefix,
            let top = hex(19..<23), let rest = hex(24..<36)
        else { return nil }
        return top << 48 | rest
    }
}
