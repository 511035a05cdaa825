import KubeCore

extension RetrainPolicy {
    public static let names = CustomResourceDefinition.Names(
        plural: "retrainpolicies", singular: "retrainpolicy", kind: kind, shortNames: ["srp"],
        categories: [SextantAPIGroup.category])

    public static let printerColumns: [CustomResourceDefinition.PrinterColumn] = [
        .init("Model", type: "string", jsonPath: ".spec.modelName"),
        .init("Schedule", type: "string", jsonPath: ".spec.triggers.schedule.cron"),
        .init("Suspend", type: "boolean", jsonPath: ".spec.suspend"),
        .init("Active", type: "string", jsonPath: ".status.activeJob", description: "The Job running now."),
        .init("Last Run", type: "date", jsonPath: ".status.lastRunTime"),
        .init("Last Version", type: "integer", jsonPath: ".status.lastRegisteredVersion"),
        .init("Trigger", type: "string", jsonPath: ".status.lastTrigger.type", priority: 1),
        .init("Age", type: "date", jsonPath: ".metadata.creationTimestamp"),
    ]

    public static var openAPISchema: JSONSchemaProps {
        rootSchema(
            description: "RetrainPolicy retrains a Model on a schedule, on drift, on falling accuracy or on demand.",
            spec: RetrainPolicySpec.schema, status: RetrainPolicyStatus.schema)
    }

    /// IANA time zone names (`UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`).
    static let timeZonePattern = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"
    /// Stages a retrained version may request.
    static let newVersionStages: [ModelStage] = [.development, .staging]
}

extension RetrainPolicySpec {
    static var schema: JSONSchemaProps {
        var newVersionStage = JSONSchemaProps.string("The stage new versions request.")
        newVersionStage.enum = RetrainPolicy.newVersionStages.map { .string($0.rawValue) }
        let container = JSONSchemaProps.freeform(
            "A container of the training pod.", required: ["name", "image"],
            properties: [
                "name": .string("Container name.", pattern: NameRules.dns1123LabelPattern, maxLength: 63),
                "image": .string("Container image.", minLength: 1),
            ])
        let podSpec = JSONSchemaProps.freeform(
            "A core/v1 PodSpec.", required: ["containers"],
            properties: ["containers": .array("Containers of the training pod.", of: container, minItems: 1)])
        let jobSpec = JSONSchemaProps.freeform(
            "A batch/v1 JobSpec.", required: ["template"],
            properties: ["template": .freeform("The pod template.", required: ["spec"], properties: ["spec": podSpec])])
        return .object(
            "The desired state of a RetrainPolicy.", required: ["modelName", "jobTemplate", "output"],
            properties: [
                "modelName": .string("The Model retrained, in this namespace.", pattern: NameRules.dns1123LabelPattern, maxLength: 63),
                "triggers": .object(
                    "What starts a run. A run can always be requested with the ml.sextant.dev/retrain-requested annotation.",
                    properties: [
                        "schedule": .object(
                            "A cron schedule.", required: ["cron"],
                            properties: [
                                "cron": .string("Five-field cron syntax or a macro such as @daily.", pattern: CronSchedule.schemaPattern, maxLength: 256),
                                "timeZone": .string("IANA time zone of the schedule.", pattern: RetrainPolicy.timeZonePattern, maxLength: 64)
                                    .defaulted(to: "UTC"),
                            ]),
                        "drift": .object(
                            "Input drift of a served model above a threshold for a while.", required: ["inferenceService", "threshold"],
                            properties: [
                                "inferenceService": .string("The InferenceService watched.", pattern: NameRules.dns1035LabelPattern, maxLength: 63),
                                "threshold": .number("Largest per-feature population-stability index tolerated.", minimum: 0),
                                "for": DurationString.schema("How long drift must stay above the threshold.").defaulted(to: "10m"),
                            ]),
                        "accuracy": .object(
                            "Online accuracy (or error) past a threshold for a while.", required: ["inferenceService", "threshold"],
                            properties: [
                                "inferenceService": .string("The InferenceService watched.", pattern: NameRules.dns1035LabelPattern, maxLength: 63),
                                "metric": .enumeration(AccuracyMetric.self, "Accuracy runs when below threshold; MeanAbsoluteError when above.")
                                    .defaulted(to: "Accuracy"),
                                "threshold": .number("The threshold.", minimum: 0),
                                "for": DurationString.schema("How long the metric must stay past the threshold.").defaulted(to: "10m"),
                            ],
                            rules: [
                                ValidationRule(
                                    rule: "!has(self.metric) || self.metric != 'Accuracy' || self.threshold <= 1.0",
                                    message: "an Accuracy threshold is a fraction from 0 to 1")
                            ]),
                    ]),
                "jobTemplate": .object(
                    "The training Job, a batch/v1 JobTemplateSpec.", required: ["spec"],
                    properties: [
                        "metadata": .object(
                            "Labels and annotations of the Job.",
                            properties: [
                                "labels": .map("Job labels.", of: .string("A label value.")),
                                "annotations": .map("Job annotations.", of: .string("An annotation value.")),
                            ]),
                        "spec": jobSpec,
                    ]),
                "output": .object(
                    "Where the trainer writes the artifact.", required: ["artifactURITemplate"],
                    properties: [
                        "artifactURITemplate": .string(
                            "An artifact URI with placeholders {model}, {version} (required), {namespace} and {run}.",
                            minLength: 1, maxLength: ArtifactURI.maxLength
                        )
                        .validated("self.contains('{version}')", message: "artifactURITemplate must contain {version}")
                    ]),
                "newVersionStage": newVersionStage.defaulted(to: "Development"),
                "concurrencyPolicy": .enumeration(RetrainConcurrencyPolicy.self, "Forbid skips a run while one is active; Replace stops it and starts anew.")
                    .defaulted(to: "Forbid"),
                "cooldown": DurationString.schema("Least time between the starts of two triggered runs.").defaulted(to: "1h"),
                "successfulJobsHistoryLimit": .integer("Finished successful Jobs kept.", minimum: 0).defaulted(to: 3),
                "failedJobsHistoryLimit": .integer("Finished failed Jobs kept.", minimum: 0).defaulted(to: 1),
                "suspend": .boolean("Stop starting runs; a running one finishes.").defaulted(to: false),
            ])
    }
}

extension RetrainPolicyStatus {
    static var schema: JSONSchemaProps {
        .object(
            "The observed state of a RetrainPolicy.",
            properties: [
                "observedGeneration": ConditionSchema.observedGeneration,
                "lastRunTime": .string("When the last run started.", format: "date-time"),
                "nextScheduleTime": .string("When the schedule fires next.", format: "date-time"),
                "lastTrigger": .object(
                    "What started the last run.", required: ["type", "time"],
                    properties: [
                        "type": .enumeration(TriggerType.self, "Schedule, Drift, Accuracy or OnDemand."),
                        "time": .string("When it fired.", format: "date-time"),
                        "message": .string("Details, e.g. the measured drift."),
                    ]),
                "activeJob": .string("The Job running now."),
                "lastJob": .object(
                    "How the last finished Job ended.", required: ["name", "result"],
                    properties: [
                        "name": .string("Job name."),
                        "result": .enumeration(JobResult.self, "Succeeded or Failed."),
                        "completionTime": .string("When it finished.", format: "date-time"),
                        "message": .string("The reason or the trainer's message."),
                    ]),
                "lastRegisteredVersion": .integer("The version the last successful run registered.", minimum: 1, format: "int64"),
                "lastHandledRequest": .string("The last value of the run-request annotation acted on."),
                "conditions": ConditionSchema.list,
            ])
    }
}
