import KubeClient
import KubeCore
import KubeRuntime
import SextantAPI

/// Reconciles a Model: aggregates its versions into status, prunes archived versions past the
/// retention limit (the objects only — artifacts are never deleted), and holds a finalizer that
/// keeps the Model while InferenceServices still serve it.
public struct ModelReconciler: Sendable {
    /// The finalizer that protects serving models.
    public static let finalizer = "ml.sextant.dev/model-protection"

    let caches: OperatorCaches
    let events: EventRecorder

    public init(caches: OperatorCaches, events: EventRecorder) {
        self.caches = caches
        self.events = events
    }

    struct DeletionBlocked: Error, CustomStringConvertible {
        var services: [String]
        var description: String { "InferenceServices still serve this model: \(services.joined(separator: ", "))" }
    }

    public func reconcile(_ model: Model, _ context: Controller<Model>.Context) async throws -> Action {
        let api = Api<Model>(client: context.client, namespace: model.metadata.namespace)
        let name = model.metadata.name ?? ""
        let namespace = model.metadata.namespace
        let versions = caches.versions(ofModel: name, namespace: namespace)
        let services = caches.servingServices(ofModel: name, namespace: namespace)
        return try await Finalizers.run(Self.finalizer, object: model, api: api) { model in
            var status = ModelPlanner.status(of: model, versions: versions, now: .now())
            status.conditions?.removeAll { $0.type == "DeletionBlocked" }
            try await writeStatus(model, status, api)
            for version in ModelPlanner.versionsToPrune(model: model, versions: versions, services: services) {
                do {
                    _ = try await Api<ModelVersion>(client: context.client, namespace: namespace).delete(version.metadata.name ?? "")
                } catch KubernetesError.notFound {
                }
                await events.record(
                    model, type: .normal, reason: "VersionPruned",
                    message:
                        "deleted archived ModelVersion \(version.metadata.name ?? "") (version \(version.spec.version)); its artifact is kept at \(version.spec.artifact.uri)"
                )
            }
            return .done
        } cleanup: { model in
            let blockers = ModelPlanner.deletionBlockers(services: services)
            guard blockers.isEmpty else {
                var status = model.status ?? ModelStatus()
                var conditions = status.conditions ?? []
                conditions.set(
                    Condition(
                        type: "DeletionBlocked", status: .true, reason: "InferenceServicesExist",
                        message: "delete these InferenceServices first: \(blockers.joined(separator: ", "))", observedGeneration: model.metadata.generation))
                status.conditions = conditions
                try await writeStatus(model, status, api)
                await events.record(
                    model, type: .warning, reason: "DeletionBlocked", message: "InferenceServices still serve this model: \(blockers.joined(separator: ", "))")
                throw DeletionBlocked(services: blockers)
            }
            return .done
        }
    }

    private func writeStatus(_ model: Model, _ status: ModelStatus, _ api: Api<Model>) async throws {
        guard status != model.status else { return }
        var updated = model
        updated.status = status
        _ = try await api.updateStatus(updated)
    }
}
