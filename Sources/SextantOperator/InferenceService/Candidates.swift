import KubeCore
import SextantAPI

/// Which version an InferenceService should serve. The ModelVersion planner and the
/// InferenceService planner both use these rules, so "the version waiting to roll out" means
/// the same thing to both.
public enum Candidates {
    /// The stage a service follows, or nil when it pins a version.
    public static func tracksStage(_ service: InferenceService) -> ModelStage? {
        service.spec.pinnedVersion == nil ? (service.spec.trackStage ?? .production) : nil
    }

    /// The failed (rolled back or aborted) rollout of `version` recorded by `service`, while the
    /// version's spec is unchanged since. A result without `modelVersionGeneration` (a canary
    /// withdrawn because the service no longer wanted it, or replaced by a newer version) is no
    /// failure of the version and does not keep it from being rolled out again.
    public static func failedRollout(of version: ModelVersion, in service: InferenceService) -> RolloutResult? {
        guard let last = service.status?.lastRollout, last.version == version.spec.version, last.result != .promoted else { return nil }
        guard let generation = last.modelVersionGeneration, generation == version.metadata.generation else { return nil }
        return last
    }

    /// The version `service` should serve: the pinned one; or the newest version that requests
    /// the tracked stage, passed its gates and whose artifact was found — unless its rollout
    /// failed here — falling back to the newest version effectively in the stage.
    public static func desiredVersion(for service: InferenceService, among versions: [ModelVersion]) -> ModelVersion? {
        let usable = versions.filter { version in
            guard version.metadata.deletionTimestamp == nil, let status = version.status else { return false }
            let conditions = status.conditions ?? []
            let blocked = ["DuplicateVersion", "ModelNotFound"].contains(conditions[type: ModelVersionConditions.ready]?.reason ?? "")
            return !blocked && conditions.isTrue(ModelVersionConditions.artifactVerified)
        }
        if let pinned = service.spec.pinnedVersion {
            return usable.first { $0.spec.version == pinned }
        }
        let stage = tracksStage(service) ?? .production
        let requesting = usable.filter { version in
            guard (version.spec.stage ?? .development) == stage, failedRollout(of: version, in: service) == nil else { return false }
            guard let gates = version.status?.conditions?[type: ModelVersionConditions.gatesPassed] else { return false }
            return gates.status == .true && gates.observedGeneration == version.metadata.generation
        }
        let effective = usable.filter { $0.status?.stage == stage }
        return (requesting + effective).max { $0.spec.version < $1.spec.version }
    }
}
