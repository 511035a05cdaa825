import Testing

@testable import KubeCore

@Suite("CEL expressions")
struct CELTests {
    func eval(_ text: String, _ variables: [String: JSONValue] = [:]) throws -> JSONValue {
        try CELEvaluator().evaluate(try CELExpression(parsing: text), variables)
    }

    static let cases: [(String, JSONValue)] = [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3),
        ("7 % 4", 3),
        ("1.5 + 1.0", 2.5),
        ("-3 + 1", -2),
        ("'a' + 'b'", "ab"),
        ("1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4 == false", true),
        ("1 == 1.0", true),
        ("1 < 1.5", true),
        ("'abc' < 'abd'", true),
        ("true ? 'y' : 'n'", "y"),
        ("2 in [1, 2, 3]", true),
        ("'k' in {'k': 1}", true),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("size('héllo')", 5),
        ("[1, 2, 3].size()", 3),
        ("'abc'.matches('^a.c$')", true),
        ("'abc'.contains('bc') && 'abc'.startsWith('ab') && 'abc'.endsWith('c')", true),
        ("[1, 2, 2, 5].isSorted()", true),
        ("[3, 1].isSorted()", false),
        ("[1, 2, 3].sum()", 6),
        ("[4, 1, 7].min() + [4, 1, 7].max()", 8),
        ("[5, 6, 7].indexOf(6)", 1),
        ("[1, 2, 3].all(x, x > 0)", true),
        ("[1, 2, 3].exists(x, x > 2)", true),
        ("[1, 2, 3].exists_one(x, x > 1)", false),
        ("[1, 2, 3].map(x, x * 2)", [2, 4, 6]),
        ("[1, 2, 3].filter(x, x % 2 == 1)", [1, 3]),
        ("{'a': 1, 'b': 2}.all(k, k.size() == 1)", true),
        ("int('42') + int(2.9)", 44),
        ("string(5)", "5"),
        ("r'\\d+' == '\\\\d+'", true),
    ]

    @Test("operators, precedence, macros and functions", arguments: cases)
    func values(text: String, expected: JSONValue) throws {
        #expect(try eval(text) == expected)
    }

    @Test("self, has() and field access; missing fields are errors")
    func fields() throws {
        let object: JSONValue = ["min": 1, "max": 3, "nested": ["flag": true], "list": [10, 20]]
        #expect(try eval("has(self.min) && self.min <= self.max", ["self": object]) == true)
        #expect(try eval("has(self.absent)", ["self": object]) == false)
        #expect(try eval("self.nested.flag && self.list[1] == 20", ["self": object]) == true)
        #expect(throws: CELError.evaluation("no such key: absent")) { try eval("self.absent == 1", ["self": object]) }
        #expect(throws: CELError.evaluation("undeclared reference to 'other'")) { try eval("other", [:]) }
    }

    @Test("&& and || absorb an error when the other side decides, as CEL specifies")
    func errorAbsorption() throws {
        let object: JSONValue = ["a": 1]
        #expect(try eval("self.missing == 1 || true", ["self": object]) == true)
        #expect(try eval("false && self.missing == 1", ["self": object]) == false)
        #expect(try eval("self.missing == 1 && false", ["self": object]) == false)
        #expect(throws: CELError.self) { try eval("self.missing == 1 || false", ["self": object]) }
    }

    @Test("syntax errors and unsupported functions are reported")
    func failures() {
        #expect(throws: CELError.self) { try CELExpression(parsing: "self.a ==") }
        #expect(throws: CELError.self) { try CELExpression(parsing: "has(self)") }
        #expect(throws: CELError.self) { try CELExpression(parsing: "'unterminated") }
        let quantity = try? CELExpression(parsing: "quantity(self.x).isGreaterThan(quantity('1'))")
        #expect(quantity?.unsupportedFunctions == ["isGreaterThan", "quantity", "quantity"])
    }

    @Test("rules over a schema: transition rules need an old value; fieldPath and reason are honoured")
    func validation() throws {
        let schema = JSONSchemaProps.object(
            "root",
            properties: [
                "spec": .object(
                    "spec",
                    properties: ["a": .integer("a").immutable("a is immutable"), "b": .integer("b")],
                    rules: [ValidationRule(rule: "self.a < self.b", message: "a must be below b", fieldPath: ".b", reason: "FieldValueForbidden")])
            ])
        let fresh = CELValidation.validate(["spec": ["a": 1, "b": 2]], old: nil, schema: schema, path: "")
        #expect(fresh.errors.isEmpty)
        let changed = CELValidation.validate(["spec": ["a": 5, "b": 2]], old: ["spec": ["a": 1, "b": 2]], schema: schema, path: "")
        #expect(
            Set(changed.errors.map(\.description)) == [
                "spec.a: Invalid value: \"integer\": a is immutable",
                "spec.b: Forbidden: a must be below b",
            ])
    }
}
