import Foundation

/// Reads a JSON document piece by piece, for callers that decode a known shape without
/// building the whole `JSONValue` tree (the inference server's tensor requests). The same
/// parser as `JSONValue(parsing:)`, with the same errors.
///
///     var reader = JSONReader(bytes)
///     if reader.next == .object {
///         try reader.readObject { name, reader in
///             if name == "data" { try reader.readArray { reader in values.append(try reader.readValue()) } }
///             else { _ = try reader.readValue() }
///         }
///     }
///     try reader.finish()
public struct JSONReader {
    /// What the next value is, from its first byte.
    public enum Kind: Sendable {
        case object, array, other
    }

    private var parser: JSONParser

    /// A reader at the start of `bytes`.
    public init(_ bytes: [UInt8]) { parser = JSONParser(bytes) }

    /// The kind of the next value; `.other` also at the end of the input (reading it then fails).
    public var next: Kind {
        mutating get {
            switch parser.peek() {
            case UInt8(ascii: "{"): return .object
            case UInt8(ascii: "["): return .array
            default: return .other
            }
        }
    }

    /// Reads the next value, which must be an object (`next == .object`), calling `member` with
    /// each name and this reader; `member` must read the member's value.
    public mutating func readObject(_ member: (String, inout JSONReader) throws -> Void) throws {
        precondition(next == .object, "readObject needs an object next")
        guard try parser.enterObject() else { return }
        repeat {
            let name = try parser.readMemberName()
            try member(name, &self)
        } while try parser.nextMember()
    }

    /// Reads the next value, which must be an array (`next == .array`), calling `element` with
    /// this reader for each element; `element` must read it.
    public mutating func readArray(_ element: (inout JSONReader) throws -> Void) throws {
        precondition(next == .array, "readArray needs an array next")
        guard try parser.enterArray() else { return }
        repeat {
            try element(&self)
        } while try parser.nextElement()
    }

    /// Reads the array next as its numbers in row-major order (`[[1, 2], [3, 4]]` gives 1, 2, 3,
    /// 4) when it is an array of numbers or of such arrays to any depth, each array holding only
    /// numbers or only arrays, and no integer is beyond ±2^53 (where a double is not exact).
    /// Otherwise reads nothing and returns nil: read the array as values instead.
    public mutating func readNumberArray() -> [Double]? { parser.readNumberArray() }

    /// Reads the next value whole.
    public mutating func readValue() throws -> JSONValue { try parser.readValue() }

    /// Checks that nothing but whitespace follows the document.
    public mutating func finish() throws { try parser.finish() }
}
