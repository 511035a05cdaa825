import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Candidates")
struct CandidatesUnitTests {
    func desired(_ subject: InferenceService, _ versions: [ModelVersion]) -> Int64? {
        Candidates.desiredVersion(for: subject, among: versions)?.spec.version
    }

    @Test("the tracked stage: Production by default, none when a version is pinned")
    func tracksStage() {
        #expect(Candidates.tracksStage(service()) == .production)
        #expect(Candidates.tracksStage(service(track: .staging)) == .staging)
        #expect(Candidates.tracksStage(service(track: .staging, pinned: 3)) == nil)
    }

    @Test("a pinned version is served when it is usable")
    func pinned() {
        let versions = [
            version(1, stage: .production, effective: .production, conditions: passedConditions()),
            version(2, conditions: passedConditions()),
            version(3, stage: .production, conditions: passedConditions()),
        ]
        #expect(desired(service(pinned: 2), versions) == 2)
        #expect(desired(service(pinned: 7), versions) == nil)
        let unverified = [version(2, conditions: [condition(ModelVersionConditions.artifactVerified, false)])]
        #expect(desired(service(pinned: 2), unverified) == nil)
    }

    @Test("the newest version requesting the tracked stage with gates passed at its generation and a found artifact")
    func newestRequesting() {
        let current = version(1, stage: .production, effective: .production, conditions: passedConditions())
        let cases: [(ModelVersion, Int64)] = [
            (version(2, stage: .production, conditions: passedConditions()), 2),
            (version(2, stage: .production, conditions: passedConditions(generation: 1), generation: 2), 1),  // gates judged an older spec
            (
                version(
                    2, stage: .production,
                    conditions: [
                        condition(ModelVersionConditions.artifactVerified, true),
                        condition(ModelVersionConditions.gatesPassed, false),
                    ]), 1
            ),
            (version(2, stage: .production, conditions: [condition(ModelVersionConditions.gatesPassed, true)]), 1),  // artifact not verified
            (version(2, stage: .staging, conditions: passedConditions()), 1),  // another stage
            (version(2, stage: .production, conditions: passedConditions(), deleting: true), 1),
            (version(2, stage: .production), 1),  // no status yet
            (version(2, stage: .production, conditions: passedConditions() + [condition(ModelVersionConditions.ready, false, reason: "DuplicateVersion")]), 1),
            (version(2, stage: .production, conditions: passedConditions() + [condition(ModelVersionConditions.ready, false, reason: "ModelNotFound")]), 1),
            (version(2, stage: .production, conditions: passedConditions() + [condition(ModelVersionConditions.ready, false, reason: "RollingOut")]), 2),
        ]
        for (candidate, expected) in cases {
            #expect(desired(service(), [current, candidate]) == expected)
        }
        let newer = [version(2, stage: .production, conditions: passedConditions()), version(3, stage: .production, conditions: passedConditions())]
        #expect(desired(service(), [current] + newer) == 3)
        #expect(desired(service(), newer.reversed() + [current]) == 3)
    }

    @Test("falls back to the newest version effectively in the stage")
    func fallback() {
        let versions = [
            version(1, stage: .production, effective: .archived, conditions: passedConditions()),
            version(2, stage: .production, effective: .production, conditions: passedConditions()),
            version(3, stage: .staging, effective: .staging, conditions: passedConditions()),
        ]
        #expect(desired(service(), versions) == 2)
        #expect(desired(service(track: .staging), versions) == 3)
        #expect(desired(service(), []) == nil)
        #expect(desired(service(), [version(4, stage: .development, effective: .development, conditions: passedConditions())]) == nil)
    }

    @Test("a version whose rollout failed here is not tried again until its generation changes")
    func failedRolloutsExcluded() {
        let current = version(1, stage: .production, effective: .production, conditions: passedConditions())
        let failed = RolloutResult(version: 2, result: .rolledBack, reason: "CrashLoop", time: epoch, modelVersionGeneration: 1)
        let here = service(status: serving(1, lastRollout: failed))
        #expect(desired(here, [current, version(2, stage: .production, conditions: passedConditions())]) == 1)
        #expect(desired(service(), [current, version(2, stage: .production, conditions: passedConditions())]) == 2)
        #expect(desired(here, [current, version(2, stage: .production, conditions: passedConditions(generation: 2), generation: 2)]) == 2)

        var promoted = failed
        promoted.result = .promoted
        #expect(desired(service(status: serving(1, lastRollout: promoted)), [current, version(2, stage: .production, conditions: passedConditions())]) == 2)

        #expect(Candidates.failedRollout(of: version(2, generation: 1), in: here) == failed)
        #expect(Candidates.failedRollout(of: version(2, generation: 2), in: here) == nil)
        #expect(Candidates.failedRollout(of: version(3, generation: 1), in: here) == nil)
    }

    @Test("a canary withdrawn or replaced (no generation recorded) does not block the version when it is requested again")
    func withdrawnNotBlocked() {
        let current = version(1, stage: .production, effective: .production, conditions: passedConditions())
        for reason in ["VersionNoLongerRequested", "Superseded", "VersionUnavailable"] {
            let withdrawn = RolloutResult(version: 2, result: .aborted, reason: reason, time: epoch, modelVersionGeneration: nil)
            let here = service(status: serving(1, lastRollout: withdrawn))
            let requestedAgain = version(2, stage: .production, conditions: passedConditions(generation: 3), generation: 3)
            #expect(desired(here, [current, requestedAgain]) == 2, "after \(reason)")
        }
    }
}
