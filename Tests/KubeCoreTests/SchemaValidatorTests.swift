import Testing

@testable import KubeCore

@Suite("Structural schema validation, pruning and defaulting")
struct SchemaValidatorTests {
    static let schema = JSONSchemaProps.object(
        "root", required: ["spec"],
        properties: [
            "spec": .object(
                "spec", required: ["name"],
                properties: [
                    "name": .string("name", pattern: "^[a-z]+$", minLength: 2, maxLength: 5),
                    "count": .integer("count", minimum: 1, maximum: 10).defaulted(to: 1),
                    "ratio": .number("ratio", minimum: 0, maximum: 1),
                    "mode": .enumeration(Mode.self, "mode").defaulted(to: "Fast"),
                    "steps": .array("steps", of: .integer("step"), minItems: 1, maxItems: 3, listType: "set"),
                    "items": .array(
                        "items", of: .object("item", properties: ["key": .string("key"), "size": .integer("size").defaulted(to: 7)]),
                        listType: "map", mapKeys: ["key"]),
                    "labels": .map("labels", of: .string("value", maxLength: 3)),
                    "free": .freeform("anything"),
                    "nested": .object("nested", properties: ["flag": .boolean("flag").defaulted(to: true)]).defaulted(to: [:]),
                ])
        ])

    enum Mode: String, CaseIterable { case fast = "Fast", slow = "Slow" }

    func errors(_ spec: JSONValue) -> [FieldError] {
        SchemaValidator.validate(["spec": spec], against: Self.schema, at: "")
    }

    @Test("a valid object has no errors")
    func valid() {
        #expect(errors(["name": "abc", "count": 3, "ratio": 0.5, "mode": "Slow", "steps": [1, 2]]).isEmpty)
    }

    static let cases: [(JSONValue, String, FieldError.Kind)] = [
        (["count": 3], "spec.name", FieldError.Kind.required),
        (["name": "a"], "spec.name", .invalid),
        (["name": "abcdef"], "spec.name", .tooLong),
        (["name": "ab1"], "spec.name", .invalid),
        (["name": 12], "spec.name", .typeInvalid),
        (["name": "ab", "count": 0], "spec.count", .invalid),
        (["name": "ab", "count": 11], "spec.count", .invalid),
        (["name": "ab", "count": 1.5], "spec.count", .typeInvalid),
        (["name": "ab", "ratio": 2], "spec.ratio", .invalid),
        (["name": "ab", "mode": "Medium"], "spec.mode", .notSupported),
        (["name": "ab", "steps": []], "spec.steps", .invalid),
        (["name": "ab", "steps": [1, 2, 3, 4]], "spec.steps", .tooMany),
        (["name": "ab", "steps": [1, 1]], "spec.steps[1]", .duplicate),
        (["name": "ab", "items": [["key": "a"], ["key": "a"]]], "spec.items[1]", .duplicate),
        (["name": "ab", "labels": ["x": "long"]], "spec.labels[x]", .tooLong),
        (["name": "ab", "nested": ["flag": "yes"]], "spec.nested.flag", .typeInvalid),
        (["name": "ab", "count": nil], "spec.count", .typeInvalid),
    ]

    @Test("each constraint reports its field and kind", arguments: cases)
    func violations(spec: JSONValue, field: String, kind: FieldError.Kind) {
        let found = errors(spec)
        #expect(found.contains { $0.field.description == field && $0.kind == kind }, "got \(found.summary)")
    }

    @Test("messages read like the API server's")
    func messages() {
        let found = errors(["name": "ab", "mode": "Medium", "count": 0])
        #expect(found.map(\.description).contains("spec.mode: Unsupported value: \"Medium\": supported values: \"Fast\", \"Slow\""))
        #expect(found.map(\.description).contains("spec.count: Invalid value: 0: should be greater than or equal to 1"))
    }

    @Test("unknown fields are pruned except where preserved; metadata is never pruned")
    func pruning() {
        let input: JSONValue = [
            "apiVersion": "v1", "kind": "Thing", "metadata": ["name": "x", "labels": ["a": "b"]],
            "spec": ["name": "ab", "typo": 1, "free": ["anything": ["goes": true]], "items": [["key": "k", "extra": 1]]],
            "extra": "x",
        ]
        let (pruned, removed) = SchemaRewriting.prune(input, schema: Self.schema)
        #expect(removed.map(\.description).sorted() == ["extra", "spec.items[0].extra", "spec.typo"])
        #expect(pruned["spec"]?["free"] == ["anything": ["goes": true]])
        #expect(pruned["metadata"]?["labels"] == ["a": "b"])
        #expect(pruned["apiVersion"] == "v1")
    }

    @Test("defaults fill absent members, nested objects and list items; null is defaulted")
    func defaulting() {
        let input: JSONValue = ["spec": ["name": "ab", "count": nil, "items": [["key": "k"]]]]
        let output = SchemaRewriting.applyDefaults(input, schema: Self.schema)
        #expect(output["spec"]?["count"] == 1)
        #expect(output["spec"]?["mode"] == "Fast")
        #expect(output["spec"]?["nested"] == ["flag": true])
        #expect(output["spec"]?["items"] == [["key": "k", "size": 7]])
        let explicit = SchemaRewriting.applyDefaults(["spec": ["name": "ab", "count": 5, "mode": "Slow"]], schema: Self.schema)
        #expect(explicit["spec"]?["count"] == 5)
        #expect(explicit["spec"]?["mode"] == "Slow")
    }

    @Test("structural rules: types required, no properties with additionalProperties, valid defaults")
    func structural() {
        #expect(StructuralSchema.violations(of: Self.schema).isEmpty)
        var untyped = JSONSchemaProps.object("x", properties: ["a": JSONSchemaProps()])
        #expect(StructuralSchema.violations(of: untyped) == [".properties.a: type must not be empty"])
        untyped.properties?["a"] = .integer("a", minimum: 5).defaulted(to: 1)
        #expect(StructuralSchema.violations(of: untyped).first?.contains("default is invalid") == true)
        var both = JSONSchemaProps.map("m", of: .string("v"))
        both.properties = ["x": .string("x")]
        #expect(StructuralSchema.violations(of: both).contains("<root>: properties and additionalProperties are mutually exclusive"))
        #expect(!StructuralSchema.violations(of: .string("bad", pattern: "([")).isEmpty)
    }

    @Test("schemas round-trip through their apiextensions JSON form")
    func schemaCodable() throws {
        let json = try JSONValue(encoding: Self.schema)
        #expect(json["properties"]?["spec"]?["properties"]?["steps"]?["x-kubernetes-list-type"] == "set")
        #expect(json["properties"]?["spec"]?["properties"]?["free"]?["x-kubernetes-preserve-unknown-fields"] == true)
        let decoded: JSONSchemaProps = try json.decode()
        #expect(decoded == Self.schema)
    }
}
