/// Pruning and defaulting, the two rewrites the API server applies to a custom resource
/// before validating it. Both follow the structural schema only.
public enum SchemaRewriting {
    /// Removes members the schema does not know, unless `x-kubernetes-preserve-unknown-fields`
    /// keeps them. `apiVersion`, `kind` and `metadata` survive at the root and in embedded
    /// resources. Returns the pruned value and the paths that were removed.
    public static func prune(
        _ value: JSONValue, schema: JSONSchemaProps, isRoot: Bool = true, path: FieldPath = ""
    )
        -> (value: JSONValue, removed: [FieldPath])
    {
        var removed: [FieldPath] = []
        let pruned = prune(value, schema, keepTypeMeta: isRoot, path, &removed)
        return (pruned, removed)
    }

    private static func prune(
        _ value: JSONValue, _ schema: JSONSchemaProps, keepTypeMeta: Bool, _ path: FieldPath, _ removed: inout [FieldPath]
    ) -> JSONValue {
        switch value {
        case .array(let elements):
            guard let items = schema.items else { return value }
            return .array(
                elements.enumerated().map { index, element in
                    prune(element, items, keepTypeMeta: items.embeddedResource == true, path.index(index), &removed)
                })
        case .object(let members):
            var kept: [String: JSONValue] = [:]
            for name in members.keys.sorted() {
                let member = members[name]!
                if keepTypeMeta && name == "metadata" {
                    // Object metadata is validated by the server's own rules, never pruned by a CRD schema.
                    kept[name] = member
                } else if let property = schema.properties?[name] {
                    kept[name] = prune(member, property, keepTypeMeta: property.embeddedResource == true, path.child(name), &removed)
                } else if case .schema(let valueSchema) = schema.additionalProperties {
                    kept[name] = prune(member, valueSchema, keepTypeMeta: valueSchema.embeddedResource == true, path.key(name), &removed)
                } else if schema.preserveUnknownFields == true || schema.additionalProperties == .allowed(true)
                    || (keepTypeMeta && ["apiVersion", "kind", "metadata"].contains(name))
                {
                    kept[name] = member
                } else {
                    removed.append(path.child(name))
                }
            }
            return .object(kept)
        default:
            return value
        }
    }

    /// Fills absent members that have a `default` in the schema, recursively, including inside
    /// array items and map values. A `null` member of a non-nullable field is dropped first and
    /// then defaulted, as the API server does.
    public static func applyDefaults(_ value: JSONValue, schema: JSONSchemaProps) -> JSONValue {
        switch value {
        case .array(let elements):
            guard let items = schema.items else { return value }
            return .array(elements.map { applyDefaults($0, schema: items) })
        case .object(var members):
            if let properties = schema.properties {
                for (name, property) in properties {
                    if members[name] == .null, property.nullable != true { members[name] = nil }
                    if members[name] == nil, let defaultValue = property.default { members[name] = defaultValue }
                    if let member = members[name] { members[name] = applyDefaults(member, schema: property) }
                }
            }
            if case .schema(let valueSchema) = schema.additionalProperties {
                for (name, member) in members where schema.properties?[name] == nil {
                    members[name] = applyDefaults(member, schema: valueSchema)
                }
            }
            return .object(members)
        default:
            return value
        }
    }
}
