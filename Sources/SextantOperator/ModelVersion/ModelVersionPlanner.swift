import KubeCore
import SextantAPI

/// What the ModelVersion reconciler knows when it decides a version's status.
public struct ModelVersionObservation: Sendable {
    public var version: ModelVersion
    /// The Model it names, when it exists.
    public var model: Model?
    /// The other versions of the same model.
    public var siblings: [ModelVersion]
    /// The InferenceServices serving the model.
    public var services: [InferenceService]
    /// The latest artifact check, when one was made.
    public var artifact: ArtifactVerification?
    public var now: KubeTime

    public init(version: ModelVersion, model: Model?, siblings: [ModelVersion], services: [InferenceService], artifact: ArtifactVerification?, now: KubeTime) {
        self.version = version
        self.model = model
        self.siblings = siblings
        self.services = services
        self.artifact = artifact
        self.now = now
    }
}

/// Condition types of a ModelVersion.
public enum ModelVersionConditions {
    /// The artifact was found where its URI points.
    public static let artifactVerified = "ArtifactVerified"
    /// The Model's gates for the requested stage pass.
    public static let gatesPassed = "GatesPassed"
    /// The effective stage is the requested one.
    public static let ready = "Ready"
}

/// Decides a ModelVersion's status from observed state: the effective stage moves towards the
/// requested one through the Model's gates and, for a stage that InferenceServices track, only
/// once each of them serves the version. A version is archived when a newer one takes the stage
/// it was in. Stage history is appended to, never rewritten.
public enum ModelVersionPlanner {
    public static func plan(_ observed: ModelVersionObservation) -> ModelVersionStatus {
        let version = observed.version
        let generation = version.metadata.generation ?? 0
        let number = version.spec.version
        var status = version.status ?? ModelVersionStatus()
        let current = status.stage
        let requested = version.spec.stage ?? .development
        var conditions = status.conditions ?? []
        status.artifact = observed.artifact ?? status.artifact
        if let approver = version.metadata.annotations?[ModelVersion.approvedByAnnotation], !approver.isEmpty {
            if status.approval?.approvedBy != approver { status.approval = Approval(approvedBy: approver, time: observed.now) }
        }
        status.servedBy = servingReferences(of: number, in: observed.services)

        func condition(_ type: String, _ value: Bool, _ reason: String, _ message: String) {
            conditions.set(
                Condition(
                    type: type, status: value ? .true : .false, reason: reason, message: message, observedGeneration: generation,
                    lastTransitionTime: observed.now))
        }
        var effective = current ?? .development
        var transitionReason = current == nil ? "Registered" : ""
        var transitionMessage = current == nil ? "version \(number) registered" : ""
        func move(to stage: ModelStage, _ reason: String, _ message: String) {
            guard stage != effective else { return }
            effective = stage
            transitionReason = reason
            transitionMessage = message
        }

        if let artifact = status.artifact {
            condition(ModelVersionConditions.artifactVerified, artifact.verified, artifact.verified ? "Reachable" : "Unreachable", artifact.message ?? "")
        }
        let blocker: (reason: String, message: String)? = {
            guard observed.model != nil else {
                return ("ModelNotFound", "Model \(version.spec.modelName) does not exist in namespace \(version.metadata.namespace ?? "")")
            }
            if let first = observed.siblings.first(where: { $0.spec.version == number && registeredBefore($0, version) }) {
                return (
                    "DuplicateVersion",
                    "version \(number) of model \(version.spec.modelName) is already registered by ModelVersion \(first.metadata.name ?? ""); choose another version number"
                )
            }
            return nil
        }()

        if let blocker {
            condition(ModelVersionConditions.ready, false, blocker.reason, blocker.message)
        } else if requested == .development || requested == .archived {
            condition(ModelVersionConditions.gatesPassed, true, "NoGates", "\(requested.rawValue) has no gates")
            move(to: requested, "Requested", "\(requested.rawValue) requested")
            condition(ModelVersionConditions.ready, true, "StageReached", "version \(number) is in \(requested.rawValue)")
        } else if let newer = observed.siblings.filter({ $0.spec.version > number && $0.status?.stage == requested }).max(by: {
            $0.spec.version < $1.spec.version
        }) {
            // A newer version holds the stage: this one is superseded (archived if it was there).
            if effective == requested { move(to: .archived, "Superseded", "version \(newer.spec.version) entered \(requested.rawValue)") }
            condition(
                ModelVersionConditions.ready, false, "Superseded",
                "version \(newer.spec.version) is in \(requested.rawValue); change this version's spec to request it again")
        } else if effective == requested {
            condition(ModelVersionConditions.ready, true, "StageReached", "version \(number) is in \(requested.rawValue)")
        } else if status.artifact?.verified != true {
            condition(
                ModelVersionConditions.ready, false, status.artifact == nil ? "ArtifactUnchecked" : "ArtifactUnavailable",
                status.artifact?.message.map { "artifact \(version.spec.artifact.uri): \($0)" } ?? "the artifact has not been checked yet")
        } else {
            let production = observed.siblings.filter { $0.status?.stage == .production }.max { $0.spec.version < $1.spec.version }
            let failures = StageGates.failures(of: version, entering: requested, model: observed.model!, production: production)
            if !failures.isEmpty {
                condition(ModelVersionConditions.gatesPassed, false, "GatesFailed", failures.joined(separator: "; "))
                condition(ModelVersionConditions.ready, false, "GatesFailed", "\(requested.rawValue) gates: " + failures.joined(separator: "; "))
            } else {
                condition(ModelVersionConditions.gatesPassed, true, "GatesPassed", "all \(requested.rawValue) gates pass")
                let trackers = observed.services.filter { $0.metadata.deletionTimestamp == nil && Candidates.tracksStage($0) == requested }
                if trackers.isEmpty {
                    move(to: requested, "GatesPassed", "gates passed; no InferenceService tracks \(requested.rawValue)")
                    condition(ModelVersionConditions.ready, true, "StageReached", "version \(number) is in \(requested.rawValue)")
                } else if let failed = trackers.first(where: { Candidates.failedRollout(of: version, in: $0) != nil }),
                    let result = Candidates.failedRollout(of: version, in: failed)
                {
                    condition(
                        ModelVersionConditions.ready, false, "RolloutFailed",
                        "InferenceService \(failed.metadata.name ?? "") \(result.result == .aborted ? "aborted" : "rolled back") version \(number): \(result.reason)\(result.message.map { ": \($0)" } ?? ""); change this version's spec to try again"
                    )
                } else if trackers.allSatisfy({ serves(number, $0) }) {
                    move(to: requested, "RolloutSucceeded", "rolled out by " + trackers.compactMap(\.metadata.name).sorted().joined(separator: ", "))
                    condition(ModelVersionConditions.ready, true, "StageReached", "version \(number) is in \(requested.rawValue)")
                } else {
                    let progress = trackers.filter { !serves(number, $0) }.map { service in
                        let name = service.metadata.name ?? ""
                        if let canary = service.status?.canary, canary.version == number { return "\(name) at \(canary.weight)%" }
                        return "\(name) waiting to start"
                    }.sorted()
                    condition(ModelVersionConditions.ready, false, "RollingOut", "gates passed; rolling out: " + progress.joined(separator: ", "))
                }
            }
        }

        var history = status.stageHistory ?? []
        if current == nil || effective != current {
            history.append(StageTransition(stage: effective, time: observed.now, reason: transitionReason, message: transitionMessage))
        }
        status.stageHistory = history
        status.stage = effective
        status.conditions = conditions
        status.observedGeneration = generation
        return status
    }

    /// Whether `service` serves `version` as its only, ready, stable version.
    static func serves(_ version: Int64, _ service: InferenceService) -> Bool {
        guard let status = service.status, status.stable?.version == version, status.canary == nil else { return false }
        return status.conditions?.isTrue("Ready") == true
    }

    /// The earlier of two objects: by creation time, then by name.
    static func registeredBefore(_ a: ModelVersion, _ b: ModelVersion) -> Bool {
        let ta = a.metadata.creationTimestamp?.date, tb = b.metadata.creationTimestamp?.date
        if let ta, let tb, ta != tb { return ta < tb }
        return (a.metadata.name ?? "") < (b.metadata.name ?? "")
    }

    static func servingReferences(of version: Int64, in services: [InferenceService]) -> [ServingReference]? {
        var references: [ServingReference] = []
        for service in services {
            let name = service.metadata.name ?? ""
            if let stable = service.status?.stable, stable.version == version {
                references.append(ServingReference(inferenceService: name, role: .stable, weight: stable.weight))
            }
            if let canary = service.status?.canary, canary.version == version {
                references.append(ServingReference(inferenceService: name, role: .canary, weight: canary.weight))
            }
        }
        return references.isEmpty ? nil : references.sorted { ($0.inferenceService, $0.role.rawValue) < ($1.inferenceService, $1.role.rawValue) }
    }
}
