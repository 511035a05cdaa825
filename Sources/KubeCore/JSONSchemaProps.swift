/// An OpenAPI v3 schema as `apiextensions.k8s.io/v1` spells it (`JSONSchemaProps`), restricted
/// to what structural schemas allow, with the Kubernetes `x-kubernetes-*` extensions.
public struct JSONSchemaProps: Codable, Sendable, Hashable {
    /// `object`, `array`, `string`, `integer`, `number` or `boolean`.
    public var type: String?
    /// Extra format such as `int32`, `int64`, `double`, `date-time`.
    public var format: String?
    /// Documentation shown by `kubectl explain`.
    public var description: String?
    /// Object members by name.
    public var properties: [String: JSONSchemaProps]?
    /// Member names that must be present.
    public var required: [String]?
    /// Schema of map values when the object is a map (mutually exclusive with `properties`).
    public var additionalProperties: AdditionalProperties?
    /// The only values allowed.
    public var `enum`: [JSONValue]?
    /// Lower bound for numbers.
    public var minimum: Double?
    /// Upper bound for numbers.
    public var maximum: Double?
    /// Whether `minimum` itself is excluded.
    public var exclusiveMinimum: Bool?
    /// Whether `maximum` itself is excluded.
    public var exclusiveMaximum: Bool?
    /// Minimum string length in characters.
    public var minLength: Int?
    /// Maximum string length in characters.
    public var maxLength: Int?
    /// ECMA-262 regular expression a string must match.
    public var pattern: String?
    /// Minimum number of array items.
    public var minItems: Int?
    /// Maximum number of array items.
    public var maxItems: Int?
    /// Minimum number of object members.
    public var minProperties: Int?
    /// Maximum number of object members.
    public var maxProperties: Int?
    /// Value applied by the server when the field is absent.
    public var `default`: JSONValue?
    /// Whether `null` is accepted (and kept) for this field.
    public var nullable: Bool?
    /// Keep members the schema does not list instead of pruning them.
    public var preserveUnknownFields: Bool?
    /// The value may be an integer or a string (e.g. a port name).
    public var intOrString: Bool?
    /// The value is a whole Kubernetes object with apiVersion, kind and metadata.
    public var embeddedResource: Bool?
    /// `atomic`, `set` or `map`: how lists merge and whether items are unique.
    public var listType: String?
    /// Keys identifying items of a `map` list.
    public var listMapKeys: [String]?
    /// `atomic` or `granular`.
    public var mapType: String?
    /// CEL rules spanning several fields.
    public var validations: [ValidationRule]?

    /// Storage for `items`, boxed in an array so the struct can contain itself.
    private var itemsStorage: [JSONSchemaProps]?

    /// Schema of array items.
    public var items: JSONSchemaProps? {
        get { itemsStorage?.first }
        set { itemsStorage = newValue.map { [$0] } }
    }

    /// An empty schema; use the builders in `JSONSchemaProps+Builders.swift`.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case type, format, description, properties, required, additionalProperties
        case `enum`, minimum, maximum, exclusiveMinimum, exclusiveMaximum
        case minLength, maxLength, pattern, minItems, maxItems, minProperties, maxProperties
        case `default`, nullable
        case itemsStorage = "items"
        case preserveUnknownFields = "x-kubernetes-preserve-unknown-fields"
        case intOrString = "x-kubernetes-int-or-string"
        case embeddedResource = "x-kubernetes-embedded-resource"
        case listType = "x-kubernetes-list-type"
        case listMapKeys = "x-kubernetes-list-map-keys"
        case mapType = "x-kubernetes-map-type"
        case validations = "x-kubernetes-validations"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        format = try container.decodeIfPresent(String.self, forKey: .format)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        properties = try container.decodeIfPresent([String: JSONSchemaProps].self, forKey: .properties)
        required = try container.decodeIfPresent([String].self, forKey: .required)
        additionalProperties = try container.decodeIfPresent(AdditionalProperties.self, forKey: .additionalProperties)
        self.enum = try container.decodeIfPresent([JSONValue].self, forKey: .enum)
        minimum = try container.decodeIfPresent(Double.self, forKey: .minimum)
        maximum = try container.decodeIfPresent(Double.self, forKey: .maximum)
        exclusiveMinimum = try container.decodeIfPresent(Bool.self, forKey: .exclusiveMinimum)
        exclusiveMaximum = try container.decodeIfPresent(Bool.self, forKey: .exclusiveMaximum)
        minLength = try container.decodeIfPresent(Int.self, forKey: .minLength)
        maxLength = try container.decodeIfPresent(Int.self, forKey: .maxLength)
        pattern = try container.decodeIfPresent(String.self, forKey: .pattern)
        minItems = try container.decodeIfPresent(Int.self, forKey: .minItems)
        maxItems = try container.decodeIfPresent(Int.self, forKey: .maxItems)
        minProperties = try container.decodeIfPresent(Int.self, forKey: .minProperties)
        maxProperties = try container.decodeIfPresent(Int.self, forKey: .maxProperties)
        self.default = try container.decodeIfPresent(JSONValue.self, forKey: .default)
        nullable = try container.decodeIfPresent(Bool.self, forKey: .nullable)
        itemsStorage = try container.decodeIfPresent(JSONSchemaProps.self, forKey: .itemsStorage).map { [$0] }
        preserveUnknownFields = try container.decodeIfPresent(Bool.self, forKey: .preserveUnknownFields)
        intOrString = try container.decodeIfPresent(Bool.self, forKey: .intOrString)
        embeddedResource = try container.decodeIfPresent(Bool.self, forKey: .embeddedResource)
        listType = try container.decodeIfPresent(String.self, forKey: .listType)
        listMapKeys = try container.decodeIfPresent([String].self, forKey: .listMapKeys)
        mapType = try container.decodeIfPresent(String.self, forKey: .mapType)
        validations = try container.decodeIfPresent([ValidationRule].self, forKey: .validations)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(format, forKey: .format)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encodeIfPresent(properties, forKey: .properties)
        try container.encodeIfPresent(required, forKey: .required)
        try container.encodeIfPresent(additionalProperties, forKey: .additionalProperties)
        try container.encodeIfPresent(self.enum, forKey: .enum)
        try container.encodeIfPresent(minimum, forKey: .minimum)
        try container.encodeIfPresent(maximum, forKey: .maximum)
        try container.encodeIfPresent(exclusiveMinimum, forKey: .exclusiveMinimum)
        try container.encodeIfPresent(exclusiveMaximum, forKey: .exclusiveMaximum)
        try container.encodeIfPresent(minLength, forKey: .minLength)
        try container.encodeIfPresent(maxLength, forKey: .maxLength)
        try container.encodeIfPresent(pattern, forKey: .pattern)
        try container.encodeIfPresent(minItems, forKey: .minItems)
        try container.encodeIfPresent(maxItems, forKey: .maxItems)
        try container.encodeIfPresent(minProperties, forKey: .minProperties)
        try container.encodeIfPresent(maxProperties, forKey: .maxProperties)
        try container.encodeIfPresent(self.default, forKey: .default)
        try container.encodeIfPresent(nullable, forKey: .nullable)
        try container.encodeIfPresent(items, forKey: .itemsStorage)
        try container.encodeIfPresent(preserveUnknownFields, forKey: .preserveUnknownFields)
        try container.encodeIfPresent(intOrString, forKey: .intOrString)
        try container.encodeIfPresent(embeddedResource, forKey: .embeddedResource)
        try container.encodeIfPresent(listType, forKey: .listType)
        try container.encodeIfPresent(listMapKeys, forKey: .listMapKeys)
        try container.encodeIfPresent(mapType, forKey: .mapType)
        try container.encodeIfPresent(validations, forKey: .validations)
    }
}

/// `additionalProperties`: either a schema for map values or a boolean.
public indirect enum AdditionalProperties: Codable, Sendable, Hashable {
    case allowed(Bool)
    case schema(JSONSchemaProps)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let allowed = try? container.decode(Bool.self) {
            self = .allowed(allowed)
        } else {
            self = .schema(try container.decode(JSONSchemaProps.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .allowed(let allowed): try container.encode(allowed)
        case .schema(let schema): try container.encode(schema)
        }
    }
}

/// A CEL rule (`x-kubernetes-validations`) evaluated by the API server against `self`
/// (and `oldSelf` on updates, for transition rules).
public struct ValidationRule: Codable, Sendable, Hashable {
    /// The CEL expression; true means valid.
    public var rule: String
    /// The error message when the rule evaluates to false.
    public var message: String?
    /// Field path the error is reported on, relative to the schema node, e.g. `.steps`.
    public var fieldPath: String?
    /// Error reason: `FieldValueInvalid` (default), `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`.
    public var reason: String?

    /// Creates a rule.
    public init(rule: String, message: String, fieldPath: String? = nil, reason: String? = nil) {
        self.rule = rule
        self.message = message
        self.fieldPath = fieldPath
        self.reason = reason
    }

    /// Whether the rule compares against the previous object (a transition rule).
    public var isTransitionRule: Bool { rule.contains("oldSelf") }
}
