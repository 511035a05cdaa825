import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("ModelVersion planner")
struct ModelVersionPlannerUnitTests {
    static let found = ArtifactVerification(verified: true, checkedAt: epoch, message: "found")

    func plan(
        _ subject: ModelVersion, model owner: Model? = model(), siblings: [ModelVersion] = [], services: [InferenceService] = [],
        artifact: ArtifactVerification? = found, now: KubeTime = at(10)
    ) -> ModelVersionStatus {
        ModelVersionPlanner.plan(ModelVersionObservation(version: subject, model: owner, siblings: siblings, services: services, artifact: artifact, now: now))
    }

    /// `subject` with the planned status written back, as the reconciler's next pass sees it.
    func written(_ status: ModelVersionStatus, to subject: ModelVersion) -> ModelVersion {
        var copy = subject
        copy.status = status
        return copy
    }

    func ready(_ status: ModelVersionStatus) -> Condition? { status.conditions?[type: ModelVersionConditions.ready] }

    @Test("a new version is registered in Development")
    func registered() {
        let status = plan(version(1, generation: 3))
        #expect(status.stage == .development)
        #expect(status.stageHistory?.map(\.stage) == [.development])
        #expect(status.stageHistory?.first?.reason == "Registered")
        #expect(status.stageHistory?.first?.time == at(10))
        #expect(ready(status)?.status == .true)
        #expect(ready(status)?.reason == "StageReached")
        #expect(ready(status)?.observedGeneration == 3)
        #expect(status.conditions?[type: ModelVersionConditions.gatesPassed]?.reason == "NoGates")
        #expect(status.conditions?[type: ModelVersionConditions.artifactVerified]?.status == .true)
        #expect(status.conditions?[type: ModelVersionConditions.artifactVerified]?.reason == "Reachable")
        #expect(status.observedGeneration == 3)
        #expect(status.artifact == Self.found)
    }

    @Test("Development and Archived are entered as soon as they are requested, even without a verified artifact")
    func immediateStages() {
        let staged = written(plan(version(1, stage: .staging)), to: version(1, stage: .staging))
        #expect(staged.status?.stage == .staging)
        var back = staged
        back.spec.stage = .development
        let status = plan(back, artifact: ArtifactVerification(verified: false, message: "gone"), now: at(20))
        #expect(status.stage == .development)
        #expect(status.stageHistory?.last?.reason == "Requested")

        var archived = staged
        archived.spec.stage = .archived
        let archivedStatus = plan(archived, now: at(30))
        #expect(archivedStatus.stage == .archived)
        #expect(archivedStatus.stageHistory?.map(\.stage) == [.staging, .archived])
        #expect(archivedStatus.stageHistory?.first == staged.status?.stageHistory?.first)
        #expect(ready(archivedStatus)?.status == .true)
    }

    @Test("an artifact that was not checked or not found blocks promotion")
    func unverifiedArtifact() {
        let unchecked = plan(version(2, stage: .staging), artifact: nil)
        #expect(unchecked.stage == .development)
        #expect(ready(unchecked)?.reason == "ArtifactUnchecked")
        #expect(unchecked.conditions?[type: ModelVersionConditions.artifactVerified] == nil)

        let missing = plan(version(2, stage: .staging), artifact: ArtifactVerification(verified: false, checkedAt: epoch, message: "HTTP 404"))
        #expect(missing.stage == .development)
        #expect(ready(missing)?.status == .false)
        #expect(ready(missing)?.reason == "ArtifactUnavailable")
        #expect(ready(missing)?.message == "artifact s3://models/fraud/v2/model.onnx: HTTP 404")
        #expect(missing.conditions?[type: ModelVersionConditions.artifactVerified]?.status == .false)
        #expect(missing.conditions?[type: ModelVersionConditions.artifactVerified]?.reason == "Unreachable")
    }

    @Test("failing gates keep the version where it is")
    func gatesFail() {
        let fraud = model(staging: StageGate(metrics: [MetricGate(metric: "accuracy", min: 0.9)]))
        let status = plan(version(2, stage: .staging, metrics: ["accuracy": 0.8]), model: fraud)
        #expect(status.stage == .development)
        #expect(status.conditions?[type: ModelVersionConditions.gatesPassed]?.status == .false)
        #expect(status.conditions?[type: ModelVersionConditions.gatesPassed]?.reason == "GatesFailed")
        #expect(ready(status)?.reason == "GatesFailed")
        #expect(ready(status)?.message == "Staging gates: accuracy 0.8 is below the minimum 0.9")
    }

    @Test("gates compare against the newest version effectively in Production")
    func regressionBaseline() {
        let fraud = model(production: StageGate(noRegression: [RegressionGate(metric: "accuracy", maxRegression: 0)]))
        let siblings = [
            version(1, stage: .production, effective: .production, metrics: ["accuracy": 0.95]),
            version(2, stage: .staging, effective: .staging, metrics: ["accuracy": 0.5]),
        ]
        let status = plan(version(3, stage: .production, metrics: ["accuracy": 0.9]), model: fraud, siblings: siblings)
        #expect(ready(status)?.reason == "GatesFailed")
        #expect(ready(status)?.message.contains("against Production version 1 (0.95)") == true)
    }

    @Test("with no InferenceService tracking the stage, passing gates is enough")
    func noTrackers() {
        let others = [
            service("prod-api", track: .production, status: serving(1)),
            service("pinned-api", track: .staging, pinned: 1, status: serving(1)),
            service("leaving-api", track: .staging, status: serving(1), deleting: true),
        ]
        let status = plan(version(2, stage: .staging), services: others)
        #expect(status.stage == .staging)
        #expect(status.stageHistory?.last?.reason == "GatesPassed")
        #expect(ready(status)?.status == .true)
        #expect(status.conditions?[type: ModelVersionConditions.gatesPassed]?.status == .true)
    }

    @Test("a tracked stage is entered once every tracking service serves the version, ready and alone")
    func waitsForRollout() {
        let candidate = version(2, stage: .production, effective: .staging)
        let waiting = plan(
            candidate,
            services: [
                service("a", status: serving(1)),
                service("b", status: serving(1, canary: VariantStatus(version: 2, weight: 25))),
            ])
        #expect(waiting.stage == .staging)
        #expect(ready(waiting)?.reason == "RollingOut")
        #expect(ready(waiting)?.message == "gates passed; rolling out: a waiting to start, b at 25%")

        let half = plan(candidate, services: [service("a", status: serving(2)), service("b", status: serving(1))])
        #expect(half.stage == .staging)
        #expect(ready(half)?.message == "gates passed; rolling out: b waiting to start")

        let notReady = plan(candidate, services: [service("a", status: serving(2, ready: false))])
        #expect(notReady.stage == .staging)
        #expect(ready(notReady)?.reason == "RollingOut")

        let stableWithCanary = plan(candidate, services: [service("a", status: serving(2, canary: VariantStatus(version: 3, weight: 0)))])
        #expect(stableWithCanary.stage == .staging)

        let done = plan(candidate, services: [service("b", status: serving(2)), service("a", status: serving(2))], now: at(99))
        #expect(done.stage == .production)
        #expect(done.stageHistory?.last == StageTransition(stage: .production, time: at(99), reason: "RolloutSucceeded", message: "rolled out by a, b"))
        #expect(ready(done)?.status == .true)
    }

    @Test("a failed rollout of this generation is reported until the spec changes")
    func failedRollout() {
        let rolledBack = RolloutResult(
            version: 2, result: .rolledBack, reason: "CrashLoop", message: "pod p is crash-looping", time: epoch, modelVersionGeneration: 1)
        let services = [service("a", status: serving(1, lastRollout: rolledBack))]
        let status = plan(version(2, stage: .production, generation: 1), services: services)
        #expect(status.stage == .development)
        #expect(ready(status)?.status == .false)
        #expect(ready(status)?.reason == "RolloutFailed")
        #expect(
            ready(status)?.message == "InferenceService a rolled back version 2: CrashLoop: pod p is crash-looping; change this version's spec to try again")

        var aborted = rolledBack
        aborted.result = .aborted
        aborted.reason = "AbortRequested"
        aborted.message = nil
        let abortedStatus = plan(version(2, stage: .production), services: [service("a", status: serving(1, lastRollout: aborted))])
        #expect(ready(abortedStatus)?.message == "InferenceService a aborted version 2: AbortRequested; change this version's spec to try again")

        let changed = plan(version(2, stage: .production, generation: 2), services: services)
        #expect(ready(changed)?.reason == "RollingOut")

        let otherVersion = plan(version(3, stage: .production), services: services)
        #expect(ready(otherVersion)?.reason == "RollingOut")
    }

    @Test("a version is archived when a newer one takes the stage it was in, once")
    func superseded() {
        let previous = written(plan(version(1, stage: .production), now: at(1)), to: version(1, stage: .production))
        #expect(previous.status?.stage == .production)
        let newer = version(2, stage: .production, effective: .production)
        let status = plan(previous, siblings: [newer], now: at(50))
        #expect(status.stage == .archived)
        #expect(status.stageHistory?.map(\.stage) == [.production, .archived])
        #expect(status.stageHistory?.last == StageTransition(stage: .archived, time: at(50), reason: "Superseded", message: "version 2 entered Production"))
        #expect(ready(status)?.reason == "Superseded")
        #expect(ready(status)?.status == .false)

        let again = plan(written(status, to: previous), siblings: [newer], now: at(60))
        #expect(again.stage == .archived)
        #expect(again.stageHistory == status.stageHistory)

        // An older version in the stage does not supersede a newer one.
        let older = version(1, stage: .production, effective: .production)
        #expect(plan(newer, siblings: [older]).stage == .production)
    }

    @Test("a version number registered twice blocks the later object")
    func duplicate() {
        let first = version(2, name: "fraud-v2", created: 0)
        let second = version(2, stage: .staging, name: "fraud-v2-again", created: 5)
        let blocked = plan(second, siblings: [first])
        #expect(ready(blocked)?.reason == "DuplicateVersion")
        #expect(ready(blocked)?.message.contains("already registered by ModelVersion fraud-v2;") == true)
        #expect(blocked.stage == .development)
        #expect(ready(plan(first, siblings: [second]))?.reason == "StageReached")

        // Created in the same second: the name decides.
        let twin = version(2, name: "fraud-v2-b", created: 0)
        #expect(ready(plan(twin, siblings: [first]))?.reason == "DuplicateVersion")
        #expect(ready(plan(first, siblings: [twin]))?.reason == "StageReached")
    }

    @Test("a version of a missing Model cannot move")
    func modelNotFound() {
        let status = plan(version(1, stage: .staging), model: nil)
        #expect(status.stage == .development)
        #expect(ready(status)?.reason == "ModelNotFound")
        #expect(ready(status)?.message == "Model fraud does not exist in namespace ml")
    }

    @Test("stage history is only appended to")
    func historyAppendOnly() {
        var subject = version(1)
        var history: [StageTransition] = []
        for (second, stage) in [(1.0, ModelStage?.none), (2, .staging), (3, .staging), (4, .production), (5, .archived), (6, .archived)] {
            subject.spec.stage = stage
            let status = plan(subject, now: at(second))
            let recorded = status.stageHistory ?? []
            #expect(Array(recorded.prefix(history.count)) == history)
            #expect(recorded.count - history.count <= 1)
            history = recorded
            subject = written(status, to: subject)
        }
        #expect(history.map(\.stage) == [.development, .staging, .production, .archived])
        #expect(history.map(\.time) == [at(1), at(2), at(4), at(5)])
    }

    @Test("an approval is recorded once, with the time it was first seen")
    func approval() {
        let approved = version(1, annotations: [ModelVersion.approvedByAnnotation: "alice"])
        let first = plan(approved, now: at(1))
        #expect(first.approval == Approval(approvedBy: "alice", time: at(1)))
        let second = plan(written(first, to: approved), now: at(2))
        #expect(second.approval == Approval(approvedBy: "alice", time: at(1)))
        var other = written(second, to: approved)
        other.metadata.annotations = [ModelVersion.approvedByAnnotation: "bob"]
        #expect(plan(other, now: at(3)).approval == Approval(approvedBy: "bob", time: at(3)))
        #expect(plan(version(1, annotations: [ModelVersion.approvedByAnnotation: ""])).approval == nil)
    }

    @Test("servedBy lists the services serving the version, as stable or canary")
    func servedBy() {
        let services = [
            service("b", status: serving(1, canary: VariantStatus(version: 2, weight: 25))),
            service("a", status: serving(2)),
            service("c", status: serving(1)),
        ]
        #expect(
            plan(version(2), services: services).servedBy == [
                ServingReference(inferenceService: "a", role: .stable, weight: 100),
                ServingReference(inferenceService: "b", role: .canary, weight: 25),
            ])
        #expect(plan(version(3), services: services).servedBy == nil)
    }
}
