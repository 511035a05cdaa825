/// Checks that a schema is *structural* as `apiextensions.k8s.io/v1` requires: every node states
/// its type (unless it is int-or-string or preserves unknown fields), no node has both
/// `properties` and `additionalProperties`, defaults and patterns are well-formed.
public enum StructuralSchema {
    /// Every rule the schema breaks, each naming the schema path; empty when it is structural.
    public static func violations(of schema: JSONSchemaProps, at path: String = "") -> [String] {
        var problems: [String] = []
        let here = path.isEmpty ? "<root>" : path
        if schema.type == nil, schema.intOrString != true, schema.preserveUnknownFields != true {
            problems.append("\(here): type must not be empty")
        }
        if schema.properties != nil, schema.additionalProperties != nil {
            problems.append("\(here): properties and additionalProperties are mutually exclusive")
        }
        if schema.type == "array", schema.items == nil {
            problems.append("\(here): arrays must have items")
        }
        if let pattern = schema.pattern, !Patterns.isValid(pattern) {
            problems.append("\(here): pattern \(pattern) does not compile")
        }
        if schema.listType == "map", (schema.listMapKeys ?? []).isEmpty {
            problems.append("\(here): x-kubernetes-list-type map needs x-kubernetes-list-map-keys")
        }
        if let defaultValue = schema.default {
            let errors = SchemaValidator.validate(defaultValue, against: schema, at: FieldPath(here))
            problems += errors.map { "\(here): default is invalid: \($0)" }
        }
        for (name, property) in (schema.properties ?? [:]).sorted(by: { $0.key < $1.key }) {
            problems += violations(of: property, at: "\(path).properties.\(name)")
        }
        if let items = schema.items { problems += violations(of: items, at: "\(path).items") }
        if case .schema(let values) = schema.additionalProperties {
            problems += violations(of: values, at: "\(path).additionalProperties")
        }
        for name in schema.required ?? [] where schema.properties?[name] == nil && schema.preserveUnknownFields != true {
            problems.append("\(here): required member \(name) is not among the properties")
        }
        return problems
    }
}
