import Foundation
import Testing

@testable import KubeCore

@Suite("JSON parser")
struct JSONParserTests {
    @Test("the reader walks a document piece by piece with the parser's results and errors")
    func reader() throws {
        let text = #"{"skip":{"deep":[1,{"x":null}]},"data":[[1,2.5],[-3,4e2]],"name":"n\u00e9","flag":true}"#
        var reader = JSONReader(Array(text.utf8))
        var names: [String] = []
        var numbers: [JSONValue] = []
        var rest: [String: JSONValue] = [:]
        #expect(reader.next == .object)
        try reader.readObject { name, reader in
            names.append(name)
            if name == "data" {
                try reader.readArray { reader in
                    #expect(reader.next == .array)
                    try reader.readArray { reader in numbers.append(try reader.readValue()) }
                }
            } else {
                rest[name] = try reader.readValue()
            }
        }
        try reader.finish()
        #expect(names == ["skip", "data", "name", "flag"])
        #expect(numbers == [1, 2.5, -3, .number(400)])
        #expect(rest["name"] == .string("né") && rest["flag"] == .bool(true))
        #expect(rest["skip"] == (try JSONValue(parsing: Data(#"{"deep":[1,{"x":null}]}"#.utf8))))

        for broken in [#"{"a":1,}"#, #"{"a":[1 2]}"#, #"{"a":1} x"#, #"{"a":"\q"}"#] {
            var reader = JSONReader(Array(broken.utf8))
            var readerError = ""
            do {
                try reader.readObject { _, reader in
                    if reader.next == .array {
                        try reader.readArray { reader in _ = try reader.readValue() }
                    } else {
                        _ = try reader.readValue()
                    }
                }
                try reader.finish()
            } catch { readerError = "\(error)" }
            var parserError = ""
            do { _ = try JSONValue(parsing: Data(broken.utf8)) } catch { parserError = "\(error)" }
            #expect(!readerError.isEmpty && readerError == parserError, "\(broken)")
        }
    }

    @Test("a number array is read into doubles, flattened; anything else is left unread for readValue")
    func numberArrays() throws {
        func numbers(_ text: String) -> [Double]? {
            var reader = JSONReader(Array(text.utf8))
            return reader.readNumberArray()
        }
        #expect(numbers("[1, 2.5, -3e2]") == [1, 2.5, -300])
        #expect(numbers(" [[1, 2], [3, 4]] ") == [1, 2, 3, 4])
        #expect(numbers("[[[0.5, 1], [2, 3]], [[4, 5], [6, 7]]]") == [0.5, 1, 2, 3, 4, 5, 6, 7])
        #expect(numbers("[]") == [] && numbers("[[], []]") == [])
        #expect(numbers("[9007199254740992, -9007199254740992]") == [9_007_199_254_740_992, -9_007_199_254_740_992])
        for other in [
            "[9007199254740993]", "[1, [2]]", "[[1], 2]", "[1, \"NaN\"]", "[true]", "[null]", "[1, 2", "[01]", "[1,]", "[-]", "[", "7", "{}",
        ] {
            var reader = JSONReader(Array(other.utf8))
            #expect(reader.readNumberArray() == nil, "\(other)")
            // Nothing was read: the value (or its error) is what readValue finds.
            var fromReader = ""
            do { fromReader = "\(try reader.readValue())" } catch { fromReader = "\(error)" }
            var direct = ""
            do { direct = "\(try JSONValue(parsing: Data(other.utf8)))" } catch { direct = "\(error)" }
            #expect(fromReader == direct, "\(other)")
        }
        // The reader goes on after the array.
        var reader = JSONReader(Array(#"{"data":[[1,2],[3,4]],"next":true}"#.utf8))
        var read: [Double]?
        var next: JSONValue?
        try reader.readObject { name, reader in
            if name == "data" { read = reader.readNumberArray() } else { next = try reader.readValue() }
        }
        try reader.finish()
        #expect(read == [1, 2, 3, 4] && next == .bool(true))
    }

    @Test("the powers-of-five table is what hack/powers-of-five.py writes")
    func powersOfFiveTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("hack/powers-of-five.py").path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let generated = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let committed = try Data(contentsOf: root.appendingPathComponent("Sources/KubeCore/PowersOfFive.swift"))
        #expect(generated == committed, "Sources/KubeCore/PowersOfFive.swift is out of date: run hack/generate.sh")
        #expect(PowersOfFive.table.count == 2 * (PowersOfFive.largestExponent - PowersOfFive.smallestExponent + 1))
    }

    @Test("Eisel-Lemire decides nearly every 19-digit significand with a normal result, exactly")
    func eiselLemireDecides() throws {
        var generator = SplitMix64(seed: 0xE15E1)
        var decided = 0
        let trials = 50_000
        for _ in 0..<trials {
            let significand = generator.next() % 10_000_000_000_000_000_000
            // Results from about 1e-290 to 1e299: normal doubles, none overflowing.
            let exponent = Int(generator.next() % 570) - 290
            let expected = try #require(Double("\(significand)e\(exponent)"))
            guard let value = JSONParser.eiselLemire(significand, exponent) else { continue }
            decided += 1
            #expect(value == expected, "\(significand)e\(exponent): \(value), expected \(expected)")
        }
        #expect(decided > trials * 99 / 100, "decided \(decided) of \(trials)")
        #expect(JSONParser.eiselLemire(20_133_113_861_083_984, -16) == 2.0133113861083984)
    }

    @Test("strings are written escaped where JSON needs it and read back equal")
    func writtenStrings() throws {
        let samples = [
            "", "plain", "a-request-id-3f9a1c2e-77b0-4d21-0000-00000000002a", "quote \" inside", "back\\slash",
            "line\nbreak\ttab\r", "\u{01}control\u{1F}", "é and 😀 stay as they are", String(repeating: "long plain text ", count: 20),
            String(repeating: "x", count: 15) + "\"",
        ]
        for sample in samples {
            var bytes: [UInt8] = []
            JSONValue.writeString(sample, into: &bytes)
            #expect(try JSONValue(parsing: Data(bytes)) == .string(sample), "\(sample)")
            #expect(!bytes.dropFirst().dropLast().contains { $0 < 0x20 }, "\(sample)")
        }
        var plain: [UInt8] = []
        JSONValue.writeString("é😀", into: &plain)
        #expect(plain == Array("\"é😀\"".utf8))
    }

    @Test("structure, escapes, integers and doubles")
    func documents() throws {
        let value = try JSONValue(
            parsing: Data(#"{"a":[1,-2,3.5,1e-3,-0.25E+2,0,12345678901234567890],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":[true,false,null],"d":{}}"#.utf8))
        #expect(value["a"] == [1, -2, 3.5, 0.001, -25.0, 0, .number(12_345_678_901_234_567_168)])
        #expect(value["b"] == .string("x\"\\/\né😀"))
        #expect(value["c"] == [true, false, nil])
        #expect(value["d"] == .object([:]))
        #expect(try JSONValue(parsing: Data("-9223372036854775808".utf8)) == .integer(.min))
        #expect(try JSONValue(parsing: Data("9223372036854775808".utf8)) == .number(9223372036854775808))
        #expect(try JSONValue(parsing: Data("2.0".utf8)) == .number(2))
        for bad in ["[1,]", "{\"a\" 1}", "[01]", "[1.]", "\"\\x\"", "[1] x", "NaN", "[-]", "{\"a\":1,}", "\"\u{01}\"", "1e", "-", "[1e+]"] {
            #expect(throws: (any Error).self, "\(bad)") { try JSONValue(parsing: Data(bad.utf8)) }
        }
    }

    /// The parser converts most numbers from the digits it scanned (without building a string);
    /// every result must equal the correctly rounded conversion of the text.
    @Test("numbers convert exactly like Double(text), on the fast path and off it")
    func numbersRoundExactly() throws {
        var generator = SplitMix64(seed: 0x5EED)
        var texts = [
            "0", "-0", "0.0", "-0.0", "1", "0.1", "0.3", "1e22", "1e23", "9007199254740993", "9007199254740992.5",
            "4.9e-324", "1.7976931348623157e308", "2.2250738585072014e-308", "0.000001", "123456789012345678",
            "1234567890123456789", "0.12345678901234567890123", "3.14159265358979323846", "1E-22", "1e-23",
        ]
        for _ in 0..<20_000 {
            let bits = generator.next()
            let double = Double(bitPattern: bits)
            if double.isFinite { texts.append("\(double)") }
            let float = Float(bitPattern: UInt32(truncatingIfNeeded: bits))
            if float.isFinite { texts.append("\(Double(float))"); texts.append("\(float)") }
            let decimal = Double(Int64(bitPattern: bits) % 10_000_000) / 10_000
            texts.append(String(format: "%.17g", decimal))
            texts.append(String(format: "%.6e", decimal * 1e-5))
            // Up to 19 significant digits with any exponent (the Eisel-Lemire range and past it).
            let significand = generator.next() % 10_000_000_000_000_000_000
            let exponent = Int(generator.next() % 700) - 360
            texts.append("\(significand).0e\(exponent)")
            texts.append("0.\(significand)e\(exponent / 2)")
        }
        texts += [
            "9.007199254740993e15", "9.007199254740995e15", "2.2250738585072011e-308", "2.2250738585072012e-308",
            "1.7976931348623158e308", "1.7976931348623159e308", "4.9406564584124654e-324", "2.4703282292062327e-324",
            "7.2057594037927933e16", "1e-342", "1e-343", "1e308", "1.8e308", "0e-400", "-0e9999", "5e-324",
            "8.98846567431158e307", "1.448997445238699e-308", "3.0e-44", "9999999999999999999e-19",
        ]
        // Fractions around the eight-digits-at-a-time reading: shorter and longer than 8, 16 and
        // 19 digits, after leading zeros, and ending at the end of the text or before a comma.
        texts += [
            "1.2345678", "1.23456789", "1.234567890", "12345678.87654321", "0.00000000123456789012", "0.100000000000000000001",
            "1.0000000000000000000001", "9.9999999999999999999", "2.0133113861083984", "-3.4808228015899658",
            "0.12345678", "0.123456789012345678", "0.1234567890123456789", "7.00000000", "7.000000001",
        ]
        for text in texts {
            let expected = try #require(Double(text), "\(text)")
            let parsed = try JSONValue(parsing: Data(text.utf8))
            let value = try #require(parsed.doubleValue, "\(text)")
            #expect(value == expected, "\(text): parsed \(value), expected \(expected)")
        }
        // The same numbers inside an array, each followed by a comma or the closing bracket.
        let array = try JSONValue(parsing: Data(("[" + texts.joined(separator: ",") + "]").utf8))
        guard case .array(let elements) = array else { Issue.record("not an array"); return }
        #expect(elements.count == texts.count)
        for (text, element) in zip(texts, elements) {
            #expect(element.doubleValue == Double(text), "\(text) in an array: parsed \(String(describing: element.doubleValue))")
        }
        for invalid in ["1.1234567a", "1.12345678a", "[1.12345678:]", "1.", "0.1234567890123456789x"] {
            #expect(throws: (any Error).self, "\(invalid)") { try JSONValue(parsing: Data(invalid.utf8)) }
        }
    }
}

/// A small deterministic generator (SplitMix64), so the test's inputs are the same every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
