import KubeCore

extension Model {
    public static let names = CustomResourceDefinition.Names(
        plural: "models", singular: "model", kind: kind, shortNames: ["smodel"],
        categories: [SextantAPIGroup.category])

    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init("Task", type: "string", jsonPath: ".spec.task"),
        .init("Owner", type: "string", jsonPath: ".spec.owner", priority: 1),
        .init("Latest", type: "integer", jsonPath: ".status.latestVersion", description: "Highest registered version."),
        .init("Staging", type: "integer", jsonPath: ".status.stagingVersion", description: "Version effectively in Staging."),
        .init("Production", type: "integer", jsonPath: ".status.productionVersion", description: "Version effectively in Production."),
        .init("Versions", type: "integer", jsonPath: ".status.versionCount"),
        .init("Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status"),
        .init("Age", type: "date", jsonPath: ".metadata.creationTimestamp"),
    ]

    public static var openAPISchema: JSONSchemaProps {
        rootSchema(
            description: "Model is a named machine-learning model with its signature and promotion gates.",
            spec: ModelSpec.schema, status: ModelStatus.schema)
    }
}

extension ModelSpec {
    static var schema: JSONSchemaProps {
        .object(
            "The desired state of a Model.", required: ["owner", "task"],
            properties: [
                "description": .string("What the model is for.", maxLength: 2048),
                "owner": .string("The team or person responsible.", minLength: 1, maxLength: 253),
                "task": .enumeration(ModelTask.self, "The kind of prediction the model makes."),
                "signature": ModelSignature.schema,
                "promotion": .object(
                    "Gates a version must pass to enter Staging and Production.",
                    properties: [
                        "staging": StageGate.schema.described("What a version needs to enter Staging."),
                        "production": StageGate.schema.described("What a version needs to enter Production."),
                    ]),
                "retention": .object(
                    "How many archived versions are kept. Older ModelVersion objects are deleted; artifacts never are.",
                    properties: [
                        "archivedVersionsToKeep": .integer("Archived ModelVersions to keep.", minimum: 0).defaulted(to: 10)
                    ]),
            ])
    }
}

extension ModelSignature {
    static var schema: JSONSchemaProps {
        .object(
            "Named, typed inputs and outputs every version must accept and produce.", required: ["inputs", "outputs"],
            properties: [
                "inputs": .array("Input tensors.", of: TensorSpec.schema, minItems: 1, listType: "map", mapKeys: ["name"]),
                "outputs": .array("Output tensors.", of: TensorSpec.schema, minItems: 1, listType: "map", mapKeys: ["name"]),
            ])
    }
}

extension TensorSpec {
    static var schema: JSONSchemaProps {
        .object(
            "A named tensor.", required: ["name", "datatype", "shape"],
            properties: [
                "name": .string("Tensor name.", minLength: 1, maxLength: 128),
                "datatype": .enumeration(TensorDatatype.self, "Element type, as the Open Inference Protocol names it."),
                "shape": .array(
                    "Dimensions; -1 marks a variable dimension such as the batch.",
                    of: .integer("A dimension.", minimum: -1, format: "int64"), maxItems: 8),
            ])
    }
}

extension StageGate {
    static var schema: JSONSchemaProps {
        .object(
            "Conditions for entering a stage; all must hold.",
            properties: [
                "metrics": .array(
                    "Training metrics that must lie within bounds.", of: MetricGate.schema,
                    listType: "map", mapKeys: ["metric"]),
                "noRegression": .array(
                    "Metrics that must not be worse than the current Production version's by more than a margin.",
                    of: RegressionGate.schema, listType: "map", mapKeys: ["metric"]),
                "requireApproval": .boolean("Whether the version also needs the ml.sextant.dev/approved-by annotation.")
                    .defaulted(to: false),
            ])
    }
}

extension MetricGate {
    static var schema: JSONSchemaProps {
        .object(
            "A bound on a training metric: min <= value <= max. A missing metric fails the gate.",
            required: ["metric"],
            properties: [
                "metric": MetricNames.schema("Name of the training metric."),
                "min": .number("Smallest allowed value."),
                "max": .number("Largest allowed value."),
            ],
            rules: [
                ValidationRule(rule: "has(self.min) || has(self.max)", message: "set min, max or both"),
                ValidationRule(
                    rule: "!has(self.min) || !has(self.max) || self.min <= self.max", message: "min must not exceed max"),
            ])
    }
}

extension RegressionGate {
    static var schema: JSONSchemaProps {
        .object(
            "The metric must not be worse than Production's by more than maxRegression.",
            required: ["metric", "maxRegression"],
            properties: [
                "metric": MetricNames.schema("Name of the training metric."),
                "direction": .enumeration(MetricDirection.self, "Which way the metric improves.")
                    .defaulted(to: "HigherIsBetter"),
                "maxRegression": .number("Largest allowed worsening in the metric's units; 0 means at least as good.", minimum: 0),
            ])
    }
}

extension ModelStatus {
    static var schema: JSONSchemaProps {
        .object(
            "The observed state of a Model.",
            properties: [
                "observedGeneration": ConditionSchema.observedGeneration,
                "latestVersion": .integer("Highest registered version number.", minimum: 1, format: "int64"),
                "stagingVersion": .integer("The version effectively in Staging.", minimum: 1, format: "int64"),
                "productionVersion": .integer("The version effectively in Production.", minimum: 1, format: "int64"),
                "versionCount": .integer("Number of ModelVersions of this model.", minimum: 0),
                "archivedVersionCount": .integer("Number of effectively Archived versions.", minimum: 0),
                "conditions": ConditionSchema.list,
            ])
    }
}
