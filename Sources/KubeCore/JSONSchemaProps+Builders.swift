/// Builders that keep schema declarations next to Swift types short and readable.
extension JSONSchemaProps {
    /// An object with named members.
    public static func object(
        _ description: String, required: [String] = [], properties: [String: JSONSchemaProps],
        rules: [ValidationRule] = []
    ) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "object"
        schema.description = description
        schema.properties = properties
        schema.required = required.isEmpty ? nil : required.sorted()
        schema.validations = rules.isEmpty ? nil : rules
        return schema
    }

    /// A string, optionally constrained by pattern, length or format.
    public static func string(
        _ description: String, pattern: String? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        format: String? = nil
    ) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "string"
        schema.description = description
        schema.pattern = pattern
        schema.minLength = minLength
        schema.maxLength = maxLength
        schema.format = format
        return schema
    }

    /// A string restricted to the raw values of a Swift enum, in declaration order.
    public static func enumeration<E: CaseIterable & RawRepresentable>(
        _ type: E.Type, _ description: String
    ) -> JSONSchemaProps where E.RawValue == String {
        var schema = JSONSchemaProps.string(description)
        schema.enum = E.allCases.map { .string($0.rawValue) }
        return schema
    }

    /// An integer (`int32` unless stated), optionally bounded.
    public static func integer(
        _ description: String, minimum: Int64? = nil, maximum: Int64? = nil, format: String = "int32"
    ) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "integer"
        schema.format = format
        schema.description = description
        schema.minimum = minimum.map(Double.init)
        schema.maximum = maximum.map(Double.init)
        return schema
    }

    /// A floating-point number, optionally bounded.
    public static func number(_ description: String, minimum: Double? = nil, maximum: Double? = nil) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "number"
        schema.format = "double"
        schema.description = description
        schema.minimum = minimum
        schema.maximum = maximum
        return schema
    }

    /// A boolean.
    public static func boolean(_ description: String) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "boolean"
        schema.description = description
        return schema
    }

    /// An array of items of one schema.
    public static func array(
        _ description: String, of items: JSONSchemaProps, minItems: Int? = nil, maxItems: Int? = nil,
        listType: String? = nil, mapKeys: [String]? = nil
    ) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "array"
        schema.description = description
        schema.items = items
        schema.minItems = minItems
        schema.maxItems = maxItems
        schema.listType = listType
        schema.listMapKeys = mapKeys
        return schema
    }

    /// A map from string keys to values of one schema.
    public static func map(_ description: String, of values: JSONSchemaProps) -> JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.type = "object"
        schema.description = description
        schema.additionalProperties = .schema(values)
        return schema
    }

    /// An object whose members are kept as they are, unvalidated beyond the listed properties.
    public static func freeform(
        _ description: String, required: [String] = [], properties: [String: JSONSchemaProps] = [:]
    ) -> JSONSchemaProps {
        var schema = JSONSchemaProps.object(description, required: required, properties: properties)
        if properties.isEmpty { schema.properties = nil }
        schema.preserveUnknownFields = true
        return schema
    }

    /// This schema with a server-side default value.
    public func defaulted(to value: JSONValue) -> JSONSchemaProps {
        var copy = self
        copy.default = value
        return copy
    }

    /// This schema with an extra CEL rule.
    public func validated(
        _ rule: String, message: String, fieldPath: String? = nil, reason: String? = nil
    )
        -> JSONSchemaProps
    {
        var copy = self
        copy.validations = (validations ?? []) + [ValidationRule(rule: rule, message: message, fieldPath: fieldPath, reason: reason)]
        return copy
    }

    /// This schema, made immutable after creation by a transition rule.
    public func immutable(_ message: String) -> JSONSchemaProps {
        validated("self == oldSelf", message: message)
    }

    /// This schema with another description.
    public func described(_ description: String) -> JSONSchemaProps {
        var copy = self
        copy.description = description
        return copy
    }
}
