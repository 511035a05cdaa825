import KubeCore

extension ModelVersion {
    public static let names = CustomResourceDefinition.Names(
        plural: "modelversions", singular: "modelversion", kind: kind, shortNames: ["smv"],
        categories: [SextantAPIGroup.category])

    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init("Model", type: "string", jsonPath: ".spec.modelName"),
        .init("Version", type: "integer", jsonPath: ".spec.version"),
        .init("Requested", type: "string", jsonPath: ".spec.stage", description: "The stage requested in spec."),
        .init("Stage", type: "string", jsonPath: ".status.stage", description: "The stage effectively reached."),
        .init("Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status"),
        .init(
            "Reason", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].reason",
            description: "Why the version is or is not in the requested stage."),
        .init("Artifact", type: "string", jsonPath: ".spec.artifact.uri", priority: 1),
        .init("Age", type: "date", jsonPath: ".metadata.creationTimestamp"),
    ]

    public static var openAPISchema: JSONSchemaProps {
        rootSchema(
            description: "ModelVersion is one immutable trained artifact of a Model and the stage it requests.",
            spec: ModelVersionSpec.schema, status: ModelVersionStatus.schema)
    }
}

extension ModelVersionSpec {
    static var schema: JSONSchemaProps {
        .object(
            "The desired state of a ModelVersion. modelName, version and artifact are immutable.",
            required: ["modelName", "version", "artifact"],
            properties: [
                "modelName": .string("The Model, in this namespace.", pattern: NameRules.dns1123LabelPattern, maxLength: 63)
                    .immutable("modelName is immutable"),
                "version": .integer("Version number, unique per Model.", minimum: 1, format: "int64")
                    .immutable("version is immutable"),
                "artifact": Artifact.schema.immutable("artifact is immutable: register a new version instead"),
                "metrics": .map(
                    "Training/evaluation metrics by name, e.g. accuracy: 0.93.", of: .number("A metric value.")
                )
                .validated(
                    "self.all(k, k.matches('\(MetricNames.pattern)') && size(k) <= \(MetricNames.maxLength))",
                    message: "metric names must start with a letter and contain only letters, digits, '_', '.' and '-'"),
                "lineage": Lineage.schema,
                "driftBaseline": .object(
                    "Feature statistics of the training data (drift baseline JSON).", required: ["uri"],
                    properties: [
                        "uri": ArtifactURI.schema("Where the statistics are."),
                        "digest": ArtifactURI.digestSchema("sha256 digest of the statistics file."),
                    ]),
                "stage": .enumeration(ModelStage.self, "The stage requested; reached only through the Model's gates.")
                    .defaulted(to: "Development"),
                "smokeTest": .object(
                    "Example requests a new version must answer before it takes traffic.",
                    properties: [
                        "requests": .array(
                            "Requests written inline.",
                            of: .object(
                                "One example request (Open Inference Protocol V2).", required: ["name", "inputs"],
                                properties: [
                                    "name": .string("A name for reports.", minLength: 1, maxLength: 63),
                                    "inputs": .array("Input tensors: name, datatype, shape, data.", of: .freeform("An input tensor."), minItems: 1),
                                    "expected": .freeform("Expected data of outputs, by output name."),
                                    "tolerance": .number("Relative tolerance for floating-point outputs.", minimum: 0).defaulted(to: 0.0001),
                                ]),
                            maxItems: 100),
                        "uri": ArtifactURI.schema("A JSON file {\"requests\": [...]} with more requests."),
                    ]),
            ])
    }
}

extension Artifact {
    static var schema: JSONSchemaProps {
        .object(
            "The trained model file.", required: ["uri", "digest"],
            properties: [
                "uri": ArtifactURI.schema("s3://bucket/key, http(s)://host/path, pvc://claim/path or file:///path."),
                "format": .enumeration(ArtifactFormat.self, "Serialisation format.").defaulted(to: "ONNX"),
                "digest": ArtifactURI.digestSchema("sha256: and 64 lower-case hex digits of the file's content."),
            ])
    }
}

extension Lineage {
    static var schema: JSONSchemaProps {
        .object(
            "Where the artifact came from.",
            properties: [
                "dataset": .object(
                    "The training data.", required: ["uri"],
                    properties: [
                        "uri": ArtifactURI.datasetSchema("Where the data set is: any scheme://location URI."),
                        "digest": ArtifactURI.digestSchema("sha256 digest of the data set."),
                    ]),
                "source": .object(
                    "The code that trained it.", required: ["repository"],
                    properties: [
                        "repository": .string("Source repository URL.", minLength: 1, maxLength: 2048),
                        "revision": .string("Commit or tag.", maxLength: 256),
                    ]),
                "trainingJob": .string("The training Job in this namespace.", pattern: NameRules.dns1123LabelPattern, maxLength: 63),
                "hyperparameters": .map("Hyper-parameters, as strings.", of: .string("A value.")),
            ])
    }
}

extension ModelVersionStatus {
    static var schema: JSONSchemaProps {
        .object(
            "The observed state of a ModelVersion.",
            properties: [
                "observedGeneration": ConditionSchema.observedGeneration,
                "stage": .enumeration(ModelStage.self, "The stage effectively reached."),
                "stageHistory": .array("Stages entered, oldest first.", of: StageTransition.schema),
                "artifact": .object(
                    "The result of checking the artifact.", required: ["verified"],
                    properties: [
                        "verified": .boolean("Whether the artifact was reachable and, where read, matched the digest."),
                        "checkedAt": .string("When it was checked.", format: "date-time"),
                        "message": .string("What was found."),
                    ]),
                "approval": .object(
                    "The recorded approval.", required: ["approvedBy", "time"],
                    properties: [
                        "approvedBy": .string("Who approved."),
                        "time": .string("When the approval was recorded.", format: "date-time"),
                    ]),
                "servedBy": .array(
                    "InferenceServices serving this version.",
                    of: .object(
                        "One service serving this version.", required: ["inferenceService", "role", "weight"],
                        properties: [
                            "inferenceService": .string("The InferenceService name."),
                            "role": .enumeration(ServingRole.self, "Stable or Canary."),
                            "weight": .integer("Percentage of the service's traffic.", minimum: 0, maximum: 100),
                        ])),
                "conditions": ConditionSchema.list,
            ])
    }
}
