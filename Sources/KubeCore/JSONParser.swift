import Foundation

/// A fast, strict JSON parser producing `JSONValue` (RFC 8259): the API server parses every
/// request body and our clients every response and watch event with it. Integers that fit in
/// 64 bits stay integers; other numbers become doubles.
struct JSONParser {
    /// Why text is not JSON, with the byte offset.
    struct ParseError: Error, CustomStringConvertible {
        let message: String
        let offset: Int
        var description: String { "invalid JSON at byte \(offset): \(message)" }
    }

    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    private static let maxDepth = 512

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static func parse(_ data: Data) throws -> JSONValue { try parse([UInt8](data)) }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected trailing characters") }
        return value
    }

    private func error(_ message: String) -> ParseError { ParseError(message: message, offset: position) }

    private mutating func skipWhitespace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D || bytes[position] == 0x09 {
            position += 1
        }
    }

    private mutating func parseValue() throws -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(Character(UnicodeScalar(bytes[position])))'")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: count)
        for index in 0..<count where bytes[position + index] != expected[index] { throw error("invalid literal") }
        position += count
    }

    private mutating func parseObject() throws -> JSONValue {
        var members: [String: JSONValue] = [:]
        if try enterObject() {
            repeat {
                let key = try readMemberName()
                members[key] = try parseValue()
            } while try nextMember()
        }
        return .object(members)
    }

    private mutating func parseArray() throws -> JSONValue {
        var elements: [JSONValue] = []
        if try enterArray() {
            repeat {
                elements.append(try parseValue())
            } while try nextElement()
        }
        return .array(elements)
    }

    // Objects and arrays are read in steps, so both the tree parser above and `JSONReader` run
    // the same loop: `enterObject`, then for each member `readMemberName` and its value, then
    // `nextMember` (false after the last one).

    /// Enters the object at the current position (which is `{`); false when it is empty (and
    /// already left).
    mutating func enterObject() throws -> Bool {
        try enterContainer(closing: UInt8(ascii: "}"))
    }

    /// The next member's name and its `:`; the value follows.
    mutating func readMemberName() throws -> String {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a member name") }
        let key = try parseString()
        skipWhitespace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
        position += 1
        skipWhitespace()
        return key
    }

    /// After a member's value: true when another member follows, false at the object's end.
    mutating func nextMember() throws -> Bool {
        try nextInContainer(closing: UInt8(ascii: "}"))
    }

    /// Enters the array at the current position (which is `[`); false when it is empty.
    mutating func enterArray() throws -> Bool {
        let more = try enterContainer(closing: UInt8(ascii: "]"))
        if more { skipWhitespace() }
        return more
    }

    /// After an element: true when another element follows, false at the array's end.
    mutating func nextElement() throws -> Bool {
        let more = try nextInContainer(closing: UInt8(ascii: "]"))
        if more { skipWhitespace() }
        return more
    }

    private mutating func enterContainer(closing: UInt8) throws -> Bool {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nesting too deep") }
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == closing {
            position += 1
            depth -= 1
            return false
        }
        return true
    }

    private mutating func nextInContainer(closing: UInt8) throws -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        if bytes[position] == UInt8(ascii: ",") {
            position += 1
            return true
        }
        if bytes[position] == closing {
            position += 1
            depth -= 1
            return false
        }
        throw error(closing == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'")
    }

    /// The first byte of the next value, skipping whitespace; nil at the end of the input.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Reads the next value whole.
    mutating func readValue() throws -> JSONValue {
        skipWhitespace()
        return try parseValue()
    }

    /// Reads the array next as its numbers in row-major order, when it is an array of numbers
    /// or an array of such arrays to any depth (each array holding only numbers or only
    /// arrays) and every number is a double exactly as written would round (integers within
    /// ±2^53). Otherwise, malformed text included, reads nothing and returns nil.
    mutating func readNumberArray() -> [Double]? {
        skipWhitespace()
        let start = (position, depth)
        var numbers: [Double] = []
        if (try? appendNumbers(to: &numbers)) == true { return numbers }
        (position, depth) = start
        return nil
    }

    /// `readNumberArray` for the array at `position`: false when it is not all numbers.
    private mutating func appendNumbers(to numbers: inout [Double]) throws -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { return false }
        guard try enterArray() else { return true }
        let nested = position < bytes.count && bytes[position] == UInt8(ascii: "[")
        repeat {
            if nested {
                guard try appendNumbers(to: &numbers) else { return false }
                continue
            }
            guard position < bytes.count, bytes[position] == UInt8(ascii: "-") || Self.digit(bytes[position]) != nil else { return false }
            switch try parseNumber() {
            case .number(let number): numbers.append(number)
            case .integer(let integer) where integer.magnitude <= 1 << 53: numbers.append(Double(integer))
            default: return false
            }
        } while try nextElement()
        return true
    }

    /// Checks that only whitespace follows.
    mutating func finish() throws {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected trailing characters") }
    }

    private mutating func parseString() throws -> String {
        position += 1
        let start = position
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: bytes[start..<position], as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in string") }
            position += 1
        }
        var buffer = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                guard position < bytes.count else { throw error("unexpected end of input") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate")
                        }
                        position += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid unicode escape") }
                    buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
                default:
                    throw error("invalid escape")
                }
            default:
                if byte < 0x20 { throw error("control character in string") }
                buffer.append(byte)
                position += 1
            }
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws -> JSONValue {
        let number = bytes.withUnsafeBufferPointer { Self.scanNumber($0, from: position) }
        position = number.end
        guard let value = number.value else { throw error("\(number.failure)") }
        return value
    }

    /// A number scanned by `scanNumber`: its value and the offset after it, or why it is not a
    /// number and the offset where that was found.
    private struct ScannedNumber {
        var value: JSONValue?
        var end: Int
        var failure: StaticString = ""
    }

    /// Scans the number at `start` (its first byte is `-` or a digit). Works on the bytes through
    /// a buffer pointer: a number's scan is the inner loop of a tensor request.
    private static func scanNumber(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> ScannedNumber {
        var position = start
        func failed(_ message: StaticString) -> ScannedNumber { ScannedNumber(value: nil, end: position, failure: message) }
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        // The digits are accumulated while scanning (as the significand of a decimal number),
        // so most numbers are converted without building a string.
        var significand: UInt64 = 0
        var significantDigits = 0
        var decimalExponent = 0
        let integerStart = position
        while position < bytes.count, let digit = Self.digit(bytes[position]) {
            accumulate(digit, into: &significand, digits: &significantDigits, exponent: &decimalExponent, fraction: false)
            position += 1
        }
        guard position > integerStart else { return failed("invalid number") }
        if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 { return failed("leading zero in number") }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let fractionStart = position
            while position < bytes.count {
                // Eight digits at a time while they fit the significand exactly (after its
                // first non-zero digit, so every digit read this way is significant).
                if significand != 0, significantDigits <= 11, let eight = eightDigits(bytes, at: position) {
                    significand = significand * 100_000_000 + eight
                    significantDigits += 8
                    decimalExponent -= 8
                    position += 8
                    continue
                }
                guard let digit = Self.digit(bytes[position]) else { break }
                accumulate(digit, into: &significand, digits: &significantDigits, exponent: &decimalExponent, fraction: true)
                position += 1
            }
            guard position > fractionStart else { return failed("invalid number") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            var exponentNegative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                exponentNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            let exponentStart = position
            var exponent = 0
            while position < bytes.count, let digit = Self.digit(bytes[position]) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(digit) }
                position += 1
            }
            guard position > exponentStart else { return failed("invalid number") }
            decimalExponent += exponentNegative ? -exponent : exponent
        }
        func scanned(_ value: JSONValue) -> ScannedNumber { ScannedNumber(value: value, end: position) }
        if isInteger, significantDigits <= 18, decimalExponent == 0 {
            let magnitude = Int64(significand)
            return scanned(.integer(negative ? -magnitude : magnitude))
        }
        // Clinger's fast path: a significand below 2^53 and a power of ten below 10^23 are both
        // exact doubles, so one multiplication or division rounds correctly.
        if significantDigits <= 19, significand <= 1 << 53, abs(decimalExponent) <= 22, !isInteger {
            let value =
                decimalExponent < 0 ? Double(significand) / Self.powersOfTen[-decimalExponent] : Double(significand) * Self.powersOfTen[decimalExponent]
            return scanned(.number(negative ? -value : value))
        }
        // Eisel-Lemire for the rest of the exact significands (up to 19 digits, any exponent):
        // what most real-world numbers with 16-17 digits need.
        if !isInteger, significantDigits <= 19, let value = Self.eiselLemire(significand, decimalExponent) {
            return scanned(.number(negative ? -value : value))
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return scanned(.integer(integer)) }
        guard let number = Double(text) else { return failed("invalid number") }
        return scanned(.number(number))
    }

    /// The double nearest to `significand` × 10^`exponent` by the Eisel-Lemire method (Lemire,
    /// "Number Parsing at a Gigabyte per Second", 2021): one or two 64×128-bit products with a
    /// table of powers of five (`PowersOfFive`). Nil where the method does not decide (results
    /// that are subnormal or overflow, and the rare product it cannot round with certainty); the
    /// caller then converts the text with the C library.
    static func eiselLemire(_ significand: UInt64, _ exponent: Int) -> Double? {
        if significand == 0 { return 0 }
        guard exponent >= PowersOfFive.smallestExponent, exponent <= PowersOfFive.largestExponent else { return nil }
        let leadingZeros = significand.leadingZeroBitCount
        let w = significand << UInt64(leadingZeros)
        let index = 2 * (exponent - PowersOfFive.smallestExponent)
        var (high, low) = w.multipliedFullWidth(by: PowersOfFive.table[index])
        // The low bits under the 53 + 2 we keep are all ones: the truncated table entry may
        // matter, so add the product with its lower half.
        if high & 0x1FF == 0x1FF {
            let (secondHigh, _) = w.multipliedFullWidth(by: PowersOfFive.table[index + 1])
            let (sum, carry) = low.addingReportingOverflow(secondHigh)
            low = sum
            if carry { high &+= 1 }
            if low == .max, exponent < -27 || exponent > 55 { return nil }
        }
        let upperBit = Int(high >> 63)
        let shift = UInt64(upperBit + 64 - 52 - 3)
        var mantissa = high >> shift
        // The binary exponent, biased: floor(log2(10^exponent)) + 63, less the normalising shift.
        var biasedExponent = ((217_706 * exponent) >> 16) + 63 + upperBit - leadingZeros + 1023
        guard biasedExponent > 0 else { return nil }
        // Exactly halfway between two doubles (only possible for small exponents): round to even.
        if low <= 1, exponent >= -4, exponent <= 23, mantissa & 3 == 1, mantissa << shift == high {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= 2 << 52 {
            mantissa = 1 << 52
            biasedExponent += 1
        }
        mantissa &= ~(1 << 52)
        guard biasedExponent < 0x7FF else { return nil }
        return Double(bitPattern: UInt64(biasedExponent) << 52 | mantissa)
    }

    /// Adds one decimal digit to a significand of at most 19 digits; later digits only scale
    /// the exponent (the slow path then converts the text exactly).
    private static func accumulate(_ digit: UInt8, into significand: inout UInt64, digits: inout Int, exponent: inout Int, fraction: Bool) {
        if significand == 0, digit == 0 {
            // Leading zeros carry no significant digit.
            if fraction { exponent -= 1 }
            return
        }
        if digits < 19 {
            significand = significand * 10 + UInt64(digit)
            digits += 1
            if fraction { exponent -= 1 }
        } else {
            digits += 1
            if !fraction { exponent += 1 }
        }
    }

    /// The value of the eight bytes at `offset` when all are ASCII digits (read as one word:
    /// the checks and the conversion of all eight take a few operations instead of eight
    /// rounds); nil when fewer than eight bytes are left or one is not a digit.
    private static func eightDigits(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        let word = UInt64(littleEndian: UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        // Every byte is 0x30...0x39: its high nibble is 3, and adding 6 keeps it 3.
        let highNibbles: UInt64 = 0xF0F0_F0F0_F0F0_F0F0
        guard (word & highNibbles) | (((word &+ 0x0606_0606_0606_0606) & highNibbles) >> 4) == 0x3333_3333_3333_3333 else { return nil }
        // Pairs of digits, then fours, then all eight (the first byte is the most significant digit).
        var value = word & 0x0F0F_0F0F_0F0F_0F0F
        value = (value &* 10 &+ (value >> 8)) & 0x00FF_00FF_00FF_00FF
        value = (value &* 100 &+ (value >> 16)) & 0x0000_FFFF_0000_FFFF
        return (value &* 10_000 &+ (value >> 32)) & 0xFFFF_FFFF
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    /// 10^0 ... 10^22, every one an exact double (a literal, so it needs no lazy initialisation).
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}
