import KubeCore

/// The life-cycle stage of a model version. A version is *requested* to be in a stage (its
/// spec) and *is* in a stage (its status) once the Model's promotion gates let it in.
public enum ModelStage: String, Codable, Sendable, CaseIterable, Hashable {
    /// Registered; not served by stage-tracking services.
    case development = "Development"
    /// Served by services tracking Staging, for pre-production checks.
    case staging = "Staging"
    /// Served by services tracking Production; at most one version per Model.
    case production = "Production"
    /// Retired; kept for lineage and rollback, subject to retention.
    case archived = "Archived"
}

/// One entry of a version's stage history; entries are appended, never rewritten.
public struct StageTransition: Codable, Sendable, Hashable {
    /// The stage entered.
    public var stage: ModelStage
    /// When it was entered.
    public var time: KubeTime
    /// CamelCase cause, e.g. `GatesPassed`, `Approved`, `Superseded`, `RolloutSucceeded`.
    public var reason: String
    /// Details for people.
    public var message: String?

    public init(stage: ModelStage, time: KubeTime, reason: String, message: String? = nil) {
        self.stage = stage
        self.time = time
        self.reason = reason
        self.message = message
    }

    static var schema: JSONSchemaProps {
        .object(
            "A stage the version entered.", required: ["stage", "time", "reason"],
            properties: [
                "stage": .enumeration(ModelStage.self, "The stage entered."),
                "time": .string("When it was entered.", format: "date-time"),
                "reason": .string("CamelCase cause of the transition."),
                "message": .string("Details for people."),
            ])
    }
}

/// Shared schema of `metav1.Condition` lists in every status.
enum ConditionSchema {
    static var list: JSONSchemaProps {
        .array(
            "Conditions describing the current state, one per type.",
            of: .object(
                "A metav1.Condition.", required: ["type", "status", "lastTransitionTime", "reason", "message"],
                properties: [
                    "type": .string(
                        "CamelCase condition type.",
                        pattern: "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
                        maxLength: 316),
                    "status": .enumeration(ConditionStatus.self, "True, False or Unknown."),
                    "observedGeneration": .integer("The generation this condition was computed from.", minimum: 0, format: "int64"),
                    "lastTransitionTime": .string("When status last changed.", format: "date-time"),
                    "reason": .string("CamelCase reason.", pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", minLength: 1, maxLength: 1024),
                    "message": .string("Human-readable details.", maxLength: 32768),
                ]),
            listType: "map", mapKeys: ["type"])
    }

    static var observedGeneration: JSONSchemaProps {
        .integer("The metadata.generation of the spec the status was computed from.", minimum: 0, format: "int64")
    }
}
