import KubeCore

/// `imagePullPolicy` values.
public enum PullPolicy: String, Codable, Sendable, CaseIterable, Hashable {
    case always = "Always"
    case ifNotPresent = "IfNotPresent"
    case never = "Never"
}

/// A Kubernetes resource quantity such as `500m`, `1`, `2Gi`; written in YAML as a number or a string.
public struct Quantity: Codable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The canonical pattern of `resource.Quantity`.
    public static let pattern =
        "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$"

    /// The quantity as written.
    public let description: String

    public init(_ text: String) { description = text }
    public init(stringLiteral value: String) { description = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let integer = try? container.decode(Int64.self) {
            description = String(integer)
        } else if let number = try? container.decode(Double.self) {
            description = String(number)
        } else {
            description = try container.decode(String.self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// Whether the text is a valid quantity.
    public var isValid: Bool { NameRules.matches(description, Quantity.pattern) }

    static var schema: JSONSchemaProps {
        var schema = JSONSchemaProps()
        schema.description = "A resource quantity such as 500m, 1 or 2Gi."
        schema.intOrString = true
        schema.pattern = pattern
        return schema
    }
}

/// CPU and memory requests and limits.
public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var limits: [String: Quantity]?
    public var requests: [String: Quantity]?

    public init(limits: [String: Quantity]? = nil, requests: [String: Quantity]? = nil) {
        self.limits = limits
        self.requests = requests
    }

    static var schema: JSONSchemaProps {
        .object(
            "Compute resources of each server container.",
            properties: [
                "limits": .map("Maximum resources, e.g. cpu: \"1\", memory: 512Mi.", of: Quantity.schema),
                "requests": .map("Guaranteed resources, e.g. cpu: 250m, memory: 256Mi.", of: Quantity.schema),
            ])
    }

    func validate(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (label, map) in [("limits", limits), ("requests", requests)] {
            for (name, quantity) in (map ?? [:]).sorted(by: { $0.key < $1.key }) where !quantity.isValid {
                errors.append(
                    FieldError(.invalid, path.child(label).key(name), "must be a quantity such as 500m, 1 or 2Gi", badValue: .string(quantity.description)))
            }
        }
        return errors
    }
}

/// An environment variable of the server container.
public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?
    /// A `valueFrom` source (secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef), passed through.
    public var valueFrom: JSONValue?

    public init(name: String, value: String? = nil, valueFrom: JSONValue? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }

    /// C identifier-like names, as Kubernetes recommends.
    public static let namePattern = "^[-._a-zA-Z][-._a-zA-Z0-9]*$"

    static var schema: JSONSchemaProps {
        .object(
            "An environment variable.", required: ["name"],
            properties: [
                "name": .string("Variable name.", pattern: namePattern, minLength: 1),
                "value": .string("Literal value."),
                "valueFrom": .freeform("Source of the value: secretKeyRef, configMapKeyRef, fieldRef or resourceFieldRef."),
            ],
            rules: [ValidationRule(rule: "!(has(self.value) && has(self.valueFrom))", message: "set value or valueFrom, not both")])
    }
}

/// A pod toleration.
public struct Toleration: Codable, Sendable, Hashable {
    public var key: String?
    public var `operator`: TolerationOperator?
    public var value: String?
    public var effect: TaintEffect?
    public var tolerationSeconds: Int64?

    public init(key: String? = nil, operator: TolerationOperator? = nil, value: String? = nil, effect: TaintEffect? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    static var schema: JSONSchemaProps {
        .object(
            "A toleration of node taints.",
            properties: [
                "key": .string("Taint key; empty with operator Exists matches all taints."),
                "operator": .enumeration(TolerationOperator.self, "Exists or Equal."),
                "value": .string("Taint value, for operator Equal."),
                "effect": .enumeration(TaintEffect.self, "The taint effect tolerated; empty means all."),
                "tolerationSeconds": .integer("How long a NoExecute taint is tolerated.", format: "int64"),
            ])
    }
}

/// Toleration operators.
public enum TolerationOperator: String, Codable, Sendable, CaseIterable, Hashable {
    case exists = "Exists"
    case equal = "Equal"
}

/// Taint effects.
public enum TaintEffect: String, Codable, Sendable, CaseIterable, Hashable {
    case noSchedule = "NoSchedule"
    case preferNoSchedule = "PreferNoSchedule"
    case noExecute = "NoExecute"
}
