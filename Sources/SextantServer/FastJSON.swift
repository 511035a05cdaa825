import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small JSON parser for request bodies that produces the same value types as
/// `JSONSerialization` (`[String: Any]`, `[Any]`, `String`, `NSNumber`, `NSNull`, and
/// JSONSerialization's own boolean objects), but parses numbers with `strtod` instead of
/// Foundation's `Decimal` path, which dominates the cost of large tensors on Linux.
/// Anything it rejects is re-parsed by `JSONSerialization` for the error.
enum FastJSON {
    struct Failure: Error {}

    private static let booleans: (NSNumber, NSNumber)? = {
        guard let array = try? JSONSerialization.jsonObject(with: Data("[true,false]".utf8)) as? [NSNumber], array.count == 2 else { return nil }
        return (array[0], array[1])
    }()

    static func parse(_ data: Data) throws -> Any {
        guard let booleans else { throw Failure() }
        return try data.withUnsafeBytes { raw -> Any in
            var parser = Parser(bytes: raw.bindMemory(to: UInt8.self), booleans: booleans)
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == parser.bytes.count else { throw Failure() }
            return value
        }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        let booleans: (NSNumber, NSNumber)
        var index = 0
        var scratch = [CChar](repeating: 0, count: 64)

        init(bytes: UnsafeBufferPointer<UInt8>, booleans: (NSNumber, NSNumber)) {
            self.bytes = bytes
            self.booleans = booleans
        }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for byte in literal.utf8 {
                guard index < bytes.count, bytes[index] == byte else { throw Failure() }
                index += 1
            }
        }

        mutating func value(depth: Int) throws -> Any {
            guard depth < 512 else { throw Failure() }
            skipWhitespace()
            guard index < bytes.count else { throw Failure() }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var object: [String: Any] = [:]
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return object }
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Failure() }
                    let key = try string()
                    skipWhitespace()
                    try expect(":")
                    object[key] = try value(depth: depth + 1)
                    skipWhitespace()
                    guard index < bytes.count else { throw Failure() }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return object }
                    throw Failure()
                }
            case UInt8(ascii: "["):
                index += 1
                var array: [Any] = []
                skipWhitespace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return array }
                while true {
                    array.append(try value(depth: depth + 1))
                    skipWhitespace()
                    guard index < bytes.count else { throw Failure() }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return array }
                    throw Failure()
                }
            case UInt8(ascii: "\""):
                return try string()
            case UInt8(ascii: "t"):
                try expect("true")
                return booleans.0
            case UInt8(ascii: "f"):
                try expect("false")
                return booleans.1
            case UInt8(ascii: "n"):
                try expect("null")
                return NSNull()
            default:
                return try number()
            }
        }

        mutating func number() throws -> NSNumber {
            let start = index
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard index > digitsStart else { throw Failure() }
            if index - digitsStart > 1, bytes[digitsStart] == 0x30 { throw Failure() }  // leading zero
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                integral = false
                index += 1
                let fraction = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > fraction else { throw Failure() }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                integral = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                let exponent = index
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
                guard index > exponent else { throw Failure() }
            }
            let length = index - start
            guard length < scratch.count else { throw Failure() }
            for i in 0..<length { scratch[i] = CChar(bitPattern: bytes[start + i]) }
            scratch[length] = 0
            if integral, length <= 18 {
                return NSNumber(value: scratch.withUnsafeBufferPointer { strtoll($0.baseAddress!, nil, 10) })
            }
            return NSNumber(value: scratch.withUnsafeBufferPointer { strtod($0.baseAddress!, nil) })
        }

        mutating func string() throws -> String {
            index += 1  // opening quote
            var out = [UInt8]()
            while true {
                guard index < bytes.count else { throw Failure() }
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Failure() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if scalar >= 0xD800, scalar < 0xDC00 {
                            try expect("\\u")
                            let low = try hex4()
                            guard low >= 0xDC00, low < 0xE000 else { throw Failure() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw Failure() }
                        out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default: throw Failure()
                    }
                default:
                    guard byte >= 0x20 else { throw Failure() }
                    out.append(byte)
                }
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw Failure() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                value <<= 4
                switch byte {
                case 0x30...0x39: value |= UInt32(byte - 0x30)
                case 0x41...0x46: value |= UInt32(byte - 0x41 + 10)
                case 0x61...0x66: value |= UInt32(byte - 0x61 + 10)
                default: throw Failure()
                }
            }
            return value
        }
    }
}
