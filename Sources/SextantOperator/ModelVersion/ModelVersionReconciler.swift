import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI

/// Reconciles a ModelVersion: checks its artifact, then lets `ModelVersionPlanner` decide its
/// effective stage and conditions; writes status when it changed and an Event per stage entered.
public struct ModelVersionReconciler: Sendable {
    let caches: OperatorCaches
    let checker: ArtifactChecker
    let configuration: OperatorConfiguration
    let events: EventRecorder

    public init(caches: OperatorCaches, checker: ArtifactChecker, configuration: OperatorConfiguration, events: EventRecorder) {
        self.caches = caches
        self.checker = checker
        self.configuration = configuration
        self.events = events
    }

    public func reconcile(_ version: ModelVersion, _ context: Controller<ModelVersion>.Context) async throws -> Action {
        guard version.metadata.deletionTimestamp == nil else { return .done }
        let namespace = version.metadata.namespace
        let model = caches.models.store.get(ObjectKey(namespace: namespace, name: version.spec.modelName))
        let siblings = caches.versions(ofModel: version.spec.modelName, namespace: namespace).filter { $0.metadata.uid != version.metadata.uid }
        let services = caches.servingServices(ofModel: version.spec.modelName, namespace: namespace)

        // The artifact URI is immutable: once found it stays found; a missing one is looked
        // for again every recheck interval.
        var artifact = version.status?.artifact
        var requeue: Duration?
        let recheck = Double(configuration.artifactRecheckInterval.components.seconds)
        if artifact?.verified != true {
            let age = artifact?.checkedAt.map { Date().timeIntervalSince($0.date) } ?? .infinity
            if age >= recheck * 0.9 {
                artifact = await checker.check(version.spec.artifact)
            }
            if artifact?.verified != true { requeue = configuration.artifactRecheckInterval }
        }

        let status = ModelVersionPlanner.plan(
            ModelVersionObservation(
                version: version, model: model, siblings: siblings, services: services, artifact: artifact, now: .now()))
        if status != version.status {
            var updated = version
            updated.status = status
            _ = try await Api<ModelVersion>(client: context.client, namespace: namespace).updateStatus(updated)
            let before = version.status?.stageHistory?.count ?? 0
            for transition in (status.stageHistory ?? []).dropFirst(before) {
                await events.record(
                    version, type: .normal,
                    reason: "Stage\(transition.stage.rawValue)",
                    message: "entered \(transition.stage.rawValue): \(transition.reason)" + (transition.message.map { " (\($0))" } ?? ""))
            }
            if version.status?.artifact?.verified != status.artifact?.verified, status.artifact?.verified == false {
                await events.record(version, type: .warning, reason: "ArtifactUnavailable", message: status.artifact?.message ?? "artifact not found")
            }
        }
        return requeue.map { .requeue(after: $0) } ?? .done
    }
}
