import Foundation
import Testing

@testable import KubeCore

@Suite("YAML and JSON values")
struct YAMLTests {
    @Test("scalars resolve like Kubernetes YAML: quoted stays a string, timestamps stay text")
    func scalarResolution() throws {
        let value = try YAML.document(
            from: """
                count: 10
                quoted: "10"
                ratio: 0.5
                enabled: true
                word: yes-please
                nothing: null
                when: 2026-11-23
                list: [1, "two", 3.5]
                """)
        #expect(value["count"] == .integer(10))
        #expect(value["quoted"] == .string("10"))
        #expect(value["ratio"] == .number(0.5))
        #expect(value["enabled"] == .bool(true))
        #expect(value["word"] == .string("yes-please"))
        #expect(value["nothing"] == .null)
        #expect(value["when"] == .string("2026-11-23"))
        #expect(value["list"] == .array([.integer(1), .string("two"), .number(3.5)]))
    }

    @Test("several documents, empty ones skipped")
    func multipleDocuments() throws {
        let documents = try YAML.documents(from: "a: 1\n---\n---\nb: 2\n")
        #expect(documents == [["a": 1], ["b": 2]])
    }

    @Test("duplicate keys are an error, not a silent overwrite")
    func duplicateKeys() {
        #expect(throws: YAML.ParseError.self) { try YAML.document(from: "a: 1\na: 2\n") }
    }

    @Test("malformed YAML reports an error")
    func malformed() {
        #expect(throws: YAML.ParseError.self) { try YAML.document(from: "a: [1, 2\n") }
    }

    @Test("rendering quotes strings that would read back as other types, and round-trips")
    func renderRoundTrip() throws {
        let original: JSONValue = [
            "yes": "true", "number": "10", "float": "1.5", "null": "null", "plain": "hello",
            "multi": "line one\nline two\n", "int": 3, "double": 2.5, "whole": 4.0, "flag": false,
            "nested": ["list": ["a", 1, ["k": "v"]]], "empty": [:], "date": "2026-01-02",
        ]
        let text = try YAML.string(from: original)
        #expect(text.contains("yes: \"true\""))
        #expect(text.contains("number: \"10\""))
        let parsed = try YAML.document(from: text)
        #expect(parsed == original)
    }

    @Test("keys are rendered sorted, so output is deterministic")
    func sortedKeys() throws {
        let text = try YAML.string(from: ["b": 1, "a": 2, "c": ["z": 1, "y": 2]])
        #expect(text == "a: 2\nb: 1\nc:\n  y: 2\n  z: 1\n")
    }

    @Test("typed values convert to and from JSON values")
    func encodingRoundTrip() throws {
        let meta = ObjectMeta(name: "demo", namespace: "ns", labels: ["app": "x"])
        let json = try JSONValue(encoding: meta)
        #expect(json["name"] == "demo")
        #expect(json["labels"]?["app"] == "x")
        #expect(json["uid"] == nil)
        let decoded: ObjectMeta = try json.decode()
        #expect(decoded == meta)
    }
}

@Suite("Time and conditions")
struct TimeAndConditionTests {
    @Test("RFC 3339 parsing and printing in UTC")
    func time() throws {
        let time = try #require(KubeTime(rfc3339: "2026-11-23T19:38:23+01:00"))
        #expect(time.description == "2026-11-23T18:38:23Z")
        #expect(KubeTime(rfc3339: "2026-11-23T18:38:23.123Z")?.description == "2026-11-23T18:38:23Z")
        #expect(KubeTime(rfc3339: "yesterday") == nil)
        let decoded = try JSONValue.string("2026-01-02T03:04:05Z").decode(as: KubeTime.self)
        #expect(try JSONValue(encoding: decoded) == "2026-01-02T03:04:05Z")
        #expect(throws: DecodingError.self) { try JSONValue.string("nope").decode(as: KubeTime.self) }
    }

    @Test("lastTransitionTime moves only when status changes")
    func conditionTransitions() throws {
        let t0 = try #require(KubeTime(rfc3339: "2026-01-01T00:00:00Z"))
        let t1 = try #require(KubeTime(rfc3339: "2026-01-01T00:05:00Z"))
        var conditions: [Condition] = []
        let added = conditions.set(Condition(type: "Ready", status: .false, reason: "Waiting", lastTransitionTime: t0))
        #expect(added)
        let updated = conditions.set(Condition(type: "Ready", status: .false, reason: "StillWaiting", message: "pods", lastTransitionTime: t1))
        #expect(updated)
        #expect(conditions[type: "Ready"]?.lastTransitionTime == t0)
        #expect(conditions[type: "Ready"]?.reason == "StillWaiting")
        let unchanged = conditions.set(Condition(type: "Ready", status: .false, reason: "StillWaiting", message: "pods", lastTransitionTime: t1))
        #expect(!unchanged)
        let flipped = conditions.set(Condition(type: "Ready", status: .true, reason: "Serving", lastTransitionTime: t1))
        #expect(flipped)
        #expect(conditions[type: "Ready"]?.lastTransitionTime == t1)
        #expect(conditions.isTrue("Ready"))
        #expect(conditions.count == 1)
    }
}
