import KubeCore
import SextantAPI

/// Decides a Model's aggregate status and which archived versions retention removes. Pure.
public enum ModelPlanner {
    public static func status(of model: Model, versions: [ModelVersion], now: KubeTime) -> ModelStatus {
        var status = model.status ?? ModelStatus()
        let generation = model.metadata.generation ?? 0
        func newest(in stage: ModelStage) -> Int64? { versions.filter { $0.status?.stage == stage }.map(\.spec.version).max() }
        status.latestVersion = versions.map(\.spec.version).max()
        status.stagingVersion = newest(in: .staging)
        status.productionVersion = newest(in: .production)
        status.versionCount = Int32(versions.count)
        status.archivedVersionCount = Int32(versions.filter { $0.status?.stage == .archived }.count)
        var conditions = status.conditions ?? []
        let ready: Condition =
            if let production = status.productionVersion {
                Condition(
                    type: "Ready", status: .true, reason: "InProduction", message: "version \(production) is in Production", observedGeneration: generation,
                    lastTransitionTime: now)
            } else {
                Condition(
                    type: "Ready", status: .false, reason: "NoProductionVersion",
                    message: versions.isEmpty ? "no versions registered" : "no version is in Production yet", observedGeneration: generation,
                    lastTransitionTime: now)
            }
        conditions.set(ready)
        status.conditions = conditions
        status.observedGeneration = generation
        return status
    }

    /// Archived versions beyond `archivedVersionsToKeep`, oldest first; never one that is
    /// served or pinned by an InferenceService.
    public static func versionsToPrune(model: Model, versions: [ModelVersion], services: [InferenceService]) -> [ModelVersion] {
        guard let keep = model.spec.retention?.archivedVersionsToKeep else { return [] }
        var inUse = Set<Int64>()
        for service in services {
            if let pinned = service.spec.pinnedVersion { inUse.insert(pinned) }
            if let stable = service.status?.stable?.version { inUse.insert(stable) }
            if let canary = service.status?.canary?.version { inUse.insert(canary) }
        }
        let archived = versions.filter { $0.status?.stage == .archived && $0.metadata.deletionTimestamp == nil }
            .sorted { $0.spec.version > $1.spec.version }
        return archived.dropFirst(Int(max(0, keep))).filter { !inUse.contains($0.spec.version) }.reversed()
    }

    /// The InferenceServices that still serve the model; the Model cannot go while any do.
    public static func deletionBlockers(services: [InferenceService]) -> [String] {
        services.compactMap(\.metadata.name).sorted()
    }
}
