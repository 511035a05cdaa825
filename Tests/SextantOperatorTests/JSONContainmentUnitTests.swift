import KubeCore
import Testing

@testable import SextantOperator

@Suite("JSON containment")
struct JSONContainmentUnitTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        var actual: JSONValue
        var desired: JSONValue
        var contains: Bool
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "equal scalars", actual: "a", desired: "a", contains: true),
        Case(label: "different scalars", actual: "a", desired: "b", contains: false),
        Case(label: "extra fields in the actual object are ignored", actual: ["a": 1, "b": 2, "status": ["x": true]], desired: ["a": 1], contains: true),
        Case(label: "a desired field that is missing", actual: ["a": 1], desired: ["a": 1, "b": 2], contains: false),
        Case(label: "a desired field with another value", actual: ["a": 1, "b": 3], desired: ["a": 1, "b": 2], contains: false),
        Case(label: "nested objects", actual: ["spec": ["replicas": 2, "paused": false]], desired: ["spec": ["replicas": 2]], contains: true),
        Case(label: "nested difference", actual: ["spec": ["replicas": 2]], desired: ["spec": ["replicas": 3]], contains: false),
        Case(label: "null wants the field absent", actual: ["a": 1], desired: ["b": nil], contains: true),
        Case(label: "null matches null", actual: ["b": nil], desired: ["b": nil], contains: true),
        Case(label: "null against a value", actual: ["b": 1], desired: ["b": nil], contains: false),
        Case(label: "arrays contain element-wise", actual: [["name": "a", "x": 1], ["name": "b"]], desired: [["name": "a"], ["name": "b"]], contains: true),
        Case(label: "arrays of another length", actual: [1, 2, 3], desired: [1, 2], contains: false),
        Case(label: "arrays in another order", actual: [1, 2], desired: [2, 1], contains: false),
        Case(label: "integer equals the same number", actual: 2, desired: 2.0, contains: true),
        Case(label: "number equals the same integer", actual: 2.0, desired: 2, contains: true),
        Case(label: "integer and another number", actual: 2, desired: 2.5, contains: false),
        Case(label: "a string is not a number", actual: "2", desired: 2, contains: false),
        Case(label: "an empty desired object", actual: ["a": 1], desired: [:], contains: true),
        Case(label: "an object is not an array", actual: ["a": 1], desired: [["a": 1]], contains: false),
    ]

    @Test("whether an object already contains every field a write would set", arguments: cases)
    func containment(_ test: Case) {
        #expect(test.actual.contains(test.desired) == test.contains)
    }
}
