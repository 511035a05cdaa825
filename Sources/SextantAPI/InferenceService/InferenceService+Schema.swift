import KubeCore

extension InferenceService {
    public static let names = CustomResourceDefinition.Names(
        plural: "inferenceservices", singular: "inferenceservice", kind: kind, shortNames: ["sisvc"],
        categories: [SextantAPIGroup.category])

    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init("Model", type: "string", jsonPath: ".spec.modelName"),
        .init("Stable", type: "integer", jsonPath: ".status.stable.version", description: "Version serving most traffic."),
        .init("Canary", type: "integer", jsonPath: ".status.canary.version", description: "Version being rolled out."),
        .init("Canary%", type: "integer", jsonPath: ".status.canary.weight", description: "Canary traffic percentage."),
        .init("Phase", type: "string", jsonPath: ".status.phase"),
        .init("Ready", type: "string", jsonPath: ".status.conditions[?(@.type==\"Ready\")].status"),
        .init("URL", type: "string", jsonPath: ".status.url", priority: 1),
        .init("Age", type: "date", jsonPath: ".metadata.creationTimestamp"),
    ]

    public static var openAPISchema: JSONSchemaProps {
        let metadata = JSONSchemaProps.object(
            "Standard object metadata. The name prefixes per-version Deployments and Services.",
            properties: [
                "name": .string(
                    "A DNS-1035 label of at most \(NameRules.inferenceServiceNameMaxLength) characters.",
                    pattern: NameRules.dns1035LabelPattern, maxLength: NameRules.inferenceServiceNameMaxLength)
            ])
        return rootSchema(
            description: "InferenceService serves a Model through the Sextant server, rolling out new versions progressively.",
            spec: InferenceServiceSpec.schema, status: InferenceServiceStatus.schema, metadata: metadata)
    }

    /// The stages a service can track.
    static let trackableStages: [ModelStage] = [.staging, .production]
    /// Default canary weights.
    public static let defaultSteps: [Int32] = [10, 25, 50, 100]
}

extension InferenceServiceSpec {
    static var schema: JSONSchemaProps {
        var trackStage = JSONSchemaProps.string("Serve the effective version of this stage. Production when neither this nor pinnedVersion is set.")
        trackStage.enum = InferenceService.trackableStages.map { .string($0.rawValue) }
        return .object(
            "The desired state of an InferenceService.", required: ["modelName"],
            properties: [
                "modelName": .string("The Model served, in this namespace.", pattern: NameRules.dns1123LabelPattern, maxLength: 63),
                "trackStage": trackStage,
                "pinnedVersion": .integer("Serve exactly this version instead of tracking a stage.", minimum: 1, format: "int64"),
                "rollout": RolloutSpec.schema.defaulted(to: [:]),
                "traffic": TrafficSpec.schema.defaulted(to: [:]),
                "replicas": .integer("Pods per version when autoscaling is off.", minimum: 0).defaulted(to: 1),
                "autoscaling": AutoscalingSpec.schema,
                "server": ServerSpec.schema,
                "experiment": ExperimentSpec.schema,
            ],
            rules: [
                ValidationRule(
                    rule: "!(has(self.trackStage) && has(self.pinnedVersion))", message: "set trackStage or pinnedVersion, not both")
            ])
    }
}

extension RolloutSpec {
    static var schema: JSONSchemaProps {
        .object(
            "How a new version replaces the current one.",
            properties: [
                "strategy": .enumeration(RolloutStrategy.self, "Canary walks the steps; BlueGreen switches when the new version is ready; Recreate replaces.")
                    .defaulted(to: "Canary"),
                // Atomic, not a set: one manager owns the whole sequence under server-side apply.
                "steps": .array(
                    "Canary traffic percentages, strictly increasing, each 0-100.",
                    of: .integer("A traffic percentage.", minimum: 0, maximum: 100), minItems: 1, maxItems: 20, listType: "atomic"
                )
                .defaulted(to: .array(InferenceService.defaultSteps.map { .integer(Int64($0)) }))
                .validated("self.all(x, self.filter(y, y <= x).size() == self.indexOf(x) + 1)", message: "steps must be strictly increasing"),
                "stepInterval": DurationString.schema("How long each step lasts before it is judged.").defaulted(to: "1m"),
                "analysis": AnalysisSpec.schema,
                "autoPromote": .boolean("Promote a canary that passes its last step without a person.").defaulted(to: true),
                "progressDeadline": DurationString.schema("How long a new version may take to become ready before the rollout is rolled back.").defaulted(
                    to: "10m"),
                "shadow": .object(
                    "Mirror stable traffic to the new version before it takes live traffic; its answers are discarded.",
                    properties: [
                        "percent": .integer("Percentage of stable requests mirrored.", minimum: 0, maximum: 100).defaulted(to: 100)
                    ]),
            ])
    }
}

extension AnalysisSpec {
    static var schema: JSONSchemaProps {
        .object(
            "What is measured at each step.",
            properties: [
                "metrics": .array("Metrics with thresholds; all must pass.", of: AnalysisMetric.schema, maxItems: 32, listType: "map", mapKeys: ["name"]),
                "minRequestCount": .integer("Requests the canary must serve in a step before a verdict.", minimum: 0).defaulted(to: 50),
                "failureLimit": .integer("Failed checks tolerated before rolling back.", minimum: 0).defaulted(to: 2),
                "prometheusURL": .string("Prometheus base URL for metrics of type Prometheus.", pattern: "^https?://[^\\s]+$"),
            ])
    }
}

extension AnalysisMetric {
    static var schema: JSONSchemaProps {
        .object(
            "A measured quantity and its passing range. Units: SuccessRate percent 0-100, latencies milliseconds, PredictionShift and InputDrift PSI, Accuracy 0-1, MeanAbsoluteError target units.",
            required: ["name", "type"],
            properties: [
                "name": .string("Name used in reports.", pattern: NameRules.dns1123LabelPattern, maxLength: 63),
                "type": .enumeration(AnalysisMetricType.self, "What is measured."),
                "min": .number("Smallest passing value."),
                "max": .number("Largest passing value."),
                "relativeToStable": .boolean("Bound canary minus stable instead of the canary's own value.").defaulted(to: false),
                "query": .string("PromQL for type Prometheus; {{service}}, {{namespace}}, {{version}} and {{window}} are substituted.", maxLength: 4096),
            ],
            rules: [
                ValidationRule(rule: "has(self.min) || has(self.max)", message: "set min, max or both"),
                ValidationRule(rule: "!has(self.min) || !has(self.max) || self.min <= self.max", message: "min must not exceed max"),
                ValidationRule(rule: "(self.type == 'Prometheus') == has(self.query)", message: "query is required for type Prometheus and allowed only there"),
            ])
    }
}

extension TrafficSpec {
    static var schema: JSONSchemaProps {
        .object(
            "How traffic is split between versions.",
            properties: [
                "provider": .enumeration(
                    TrafficProvider.self, "Router splits by exact weight; GatewayAPI writes an HTTPRoute; ReplicaRatio scales replicas to approximate weights."
                )
                .defaulted(to: "Router"),
                "gatewayAPI": .object(
                    "HTTPRoute settings for provider GatewayAPI.", required: ["parentRefs"],
                    properties: [
                        "parentRefs": .array(
                            "Gateways the route attaches to.",
                            of: .object(
                                "A Gateway.", required: ["name"],
                                properties: [
                                    "name": .string("Gateway name.", minLength: 1, maxLength: 253),
                                    "namespace": .string("Gateway namespace.", pattern: NameRules.dns1123LabelPattern, maxLength: 63),
                                    "sectionName": .string("Listener name.", maxLength: 253),
                                ]),
                            minItems: 1, maxItems: 32),
                        "hostnames": .array("Host names the route answers.", of: .string("A host name.", maxLength: 253), maxItems: 16),
                    ]),
                "stickyHeader": .string(
                    "Keep each client on one version by this request header, or the cookie of that name (Router only).", pattern: "^[A-Za-z0-9-]+$",
                    maxLength: 256),
            ],
            rules: [
                ValidationRule(
                    rule: "!has(self.provider) || self.provider != 'GatewayAPI' || has(self.gatewayAPI)",
                    message: "gatewayAPI is required for provider GatewayAPI")
            ])
    }
}

extension AutoscalingSpec {
    static var schema: JSONSchemaProps {
        .object(
            "Horizontal autoscaling of each version's Deployment.", required: ["maxReplicas"],
            properties: [
                "minReplicas": .integer("Fewest pods.", minimum: 1).defaulted(to: 1),
                "maxReplicas": .integer("Most pods.", minimum: 1),
                "targetConcurrency": .integer("Target in-flight requests per pod.", minimum: 1),
                "targetCPUUtilizationPercentage": .integer("Target CPU utilisation.", minimum: 1, maximum: 100),
            ],
            rules: [
                ValidationRule(rule: "!has(self.minReplicas) || self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas"),
                ValidationRule(
                    rule: "has(self.targetConcurrency) != has(self.targetCPUUtilizationPercentage)",
                    message: "set exactly one of targetConcurrency and targetCPUUtilizationPercentage"),
            ])
    }
}

extension ServerSpec {
    static var schema: JSONSchemaProps {
        .object(
            "Settings of the server pods.",
            properties: [
                "image": .string("Server image; the operator's default when absent.", minLength: 1, maxLength: 1024),
                "imagePullPolicy": .enumeration(PullPolicy.self, "When the image is pulled."),
                "resources": ResourceRequirements.schema,
                "env": .array("Extra environment variables.", of: EnvVar.schema, listType: "map", mapKeys: ["name"]),
                "nodeSelector": .map("Node labels the pods must run on.", of: .string("A label value.")),
                "tolerations": .array("Tolerations of node taints.", of: Toleration.schema),
                "serviceAccountName": .string(
                    "Service account of the pods.", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", maxLength: 253),
                "port": .integer("HTTP port of the server.", minimum: 1, maximum: 65535).defaulted(to: 8080),
            ])
    }
}

extension InferenceServiceStatus {
    static var schema: JSONSchemaProps {
        let variant = JSONSchemaProps.object(
            "A served version.", required: ["version", "weight"],
            properties: [
                "version": .integer("Version number.", minimum: 1, format: "int64"),
                "weight": .integer("Traffic percentage.", minimum: 0, maximum: 100),
                "replicas": .integer("Desired pods.", minimum: 0),
                "readyReplicas": .integer("Ready pods.", minimum: 0),
            ])
        return .object(
            "The observed state of an InferenceService.",
            properties: [
                "observedGeneration": ConditionSchema.observedGeneration,
                "url": .string("Where clients send requests."),
                "phase": .enumeration(InferenceServicePhase.self, "Pending, Serving, Progressing, RollingBack or Failed."),
                "stable": variant.described("The version serving most traffic."),
                "canary": variant.described("The version being rolled out."),
                "rollout": .object(
                    "Progress of the running rollout.",
                    properties: [
                        "currentStep": .integer("Index into spec.rollout.steps.", minimum: 0),
                        "stepStartedAt": .string("When the current step began.", format: "date-time"),
                        "failures": .integer("Failed checks so far.", minimum: 0),
                        "analysis": .array(
                            "Latest verdict per metric.",
                            of: .object(
                                "A metric verdict.", required: ["metric", "threshold", "passed", "time"],
                                properties: [
                                    "metric": .string("Metric name."),
                                    "value": .number("Measured value."),
                                    "threshold": .string("The threshold as written."),
                                    "passed": .boolean("Whether the value passed."),
                                    "window": .string("Measurement window."),
                                    "time": .string("When it was measured.", format: "date-time"),
                                    "message": .string("Details."),
                                ])),
                    ]),
                "lastRollout": .object(
                    "How the last rollout ended.", required: ["version", "result", "reason", "time"],
                    properties: [
                        "version": .integer("The version rolled out.", minimum: 1, format: "int64"),
                        "result": .enumeration(RolloutOutcome.self, "Promoted, RolledBack or Aborted."),
                        "reason": .string("CamelCase cause."),
                        "message": .string("Details, e.g. which metric failed by how much."),
                        "time": .string("When it ended.", format: "date-time"),
                        "modelVersionGeneration": .integer(
                            "The ModelVersion's generation when the rollout ended; a failed version is retried only after its spec changes.", minimum: 0,
                            format: "int64"),
                    ]),
                "experiment": ExperimentStatus.schema,
                "conditions": ConditionSchema.list,
            ])
    }
}
