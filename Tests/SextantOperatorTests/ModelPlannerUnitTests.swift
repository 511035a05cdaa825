import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Model planner")
struct ModelPlannerUnitTests {
    @Test("the status aggregates the versions")
    func aggregates() {
        let versions = [
            version(1, effective: .archived), version(2, effective: .archived), version(3, effective: .production),
            version(4, effective: .staging), version(5, effective: .staging), version(6, effective: .development), version(7),
        ]
        let status = ModelPlanner.status(of: model(generation: 2), versions: versions, now: at(1))
        #expect(status.latestVersion == 7)
        #expect(status.stagingVersion == 5)
        #expect(status.productionVersion == 3)
        #expect(status.versionCount == 7)
        #expect(status.archivedVersionCount == 2)
        #expect(status.observedGeneration == 2)
        let ready = status.conditions?[type: "Ready"]
        #expect(ready?.status == .true)
        #expect(ready?.reason == "InProduction")
        #expect(ready?.message == "version 3 is in Production")
        #expect(ready?.observedGeneration == 2)
    }

    @Test(
        "without a Production version the Model is not Ready",
        arguments: [
            ([ModelVersion](), "no versions registered"), ([version(1, effective: .staging)], "no version is in Production yet"),
        ])
    func notReady(_ versions: [ModelVersion], _ message: String) {
        let status = ModelPlanner.status(of: model(), versions: versions, now: at(1))
        #expect(status.conditions?[type: "Ready"]?.status == .false)
        #expect(status.conditions?[type: "Ready"]?.reason == "NoProductionVersion")
        #expect(status.conditions?[type: "Ready"]?.message == message)
        #expect(status.latestVersion == (versions.isEmpty ? nil : 1))
        #expect(status.productionVersion == nil)
    }

    func pruned(keep: Int32?, _ versions: [ModelVersion], _ services: [InferenceService] = []) -> [Int64] {
        ModelPlanner.versionsToPrune(model: model(keepArchived: keep), versions: versions, services: services).map(\.spec.version)
    }

    @Test("retention keeps the newest archived versions and prunes the rest, oldest first")
    func retention() {
        let archived = (1...5).map { version(Int64($0), effective: .archived) }
        let others = [version(6, effective: .production), version(7, effective: .development)]
        #expect(pruned(keep: nil, archived + others).isEmpty)
        #expect(pruned(keep: 2, (archived + others).shuffled()) == [1, 2, 3])
        #expect(pruned(keep: 0, archived + others) == [1, 2, 3, 4, 5])
        #expect(pruned(keep: 5, archived).isEmpty)
        #expect(pruned(keep: 9, archived).isEmpty)
        #expect(pruned(keep: 2, archived.map { $0.spec.version == 2 ? version(2, effective: .archived, deleting: true) : $0 }) == [1, 3])
    }

    @Test("retention never prunes a version that is served or pinned")
    func retentionKeepsVersionsInUse() {
        let archived = (1...5).map { version(Int64($0), effective: .archived) }
        let services = [
            service("pinned", pinned: 1),
            service("rolling", status: serving(6, canary: VariantStatus(version: 2, weight: 10))),
            service("stale", status: serving(3)),
        ]
        #expect(pruned(keep: 1, archived, services) == [4])
        #expect(pruned(keep: 0, archived, services) == [4, 5])
    }

    @Test("the services serving a model block its deletion")
    func deletionBlockers() {
        #expect(ModelPlanner.deletionBlockers(services: [service("b"), service("a")]) == ["a", "b"])
        #expect(ModelPlanner.deletionBlockers(services: []).isEmpty)
    }
}
