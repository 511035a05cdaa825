import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI

/// One shared informer per kind the operator reads: the four Sextant kinds, and the built-in
/// objects it creates (selected by the managed-by label, so a busy cluster's other Deployments
/// and pods are never cached). Controllers read these stores and are woken by their events.
public struct OperatorCaches: Sendable {
    public let models: Informer<Model>
    public let modelVersions: Informer<ModelVersion>
    public let inferenceServices: Informer<InferenceService>
    public let retrainPolicies: Informer<RetrainPolicy>
    public let deployments: Informer<Deployment>
    public let services: Informer<Service>
    public let configMaps: Informer<ConfigMap>
    public let autoscalers: Informer<HorizontalPodAutoscaler>
    public let pods: Informer<Pod>
    public let jobs: Informer<KubeClient.Job>

    /// Index name: objects by `namespace/modelName`.
    public static let byModel = "model"
    /// Index name: objects by `namespace/inferenceService` (from the label).
    public static let byInferenceService = "inference-service"
    /// Index name: Jobs by `namespace/retrainPolicy` (from the label).
    public static let byRetrainPolicy = "retrain-policy"

    public init(client: KubernetesClient, namespace: String?, metrics: RuntimeMetrics, logger: Logger) {
        @Sendable func modelKey(_ namespace: String?, _ model: String) -> [String] { ["\(namespace ?? "")/\(model)"] }
        func labelKey<K: Resource>(_ label: String) -> Store<K>.IndexFunction {
            { object in object.metadata.labels?[label].map { ["\(object.metadata.namespace ?? "")/\($0)"] } ?? [] }
        }
        models = Informer(api: Api(client: client, namespace: namespace), metrics: metrics, logger: logger)
        modelVersions = Informer(
            api: Api(client: client, namespace: namespace), indexes: [Self.byModel: { modelKey($0.metadata.namespace, $0.spec.modelName) }],
            metrics: metrics, logger: logger)
        inferenceServices = Informer(
            api: Api(client: client, namespace: namespace), indexes: [Self.byModel: { modelKey($0.metadata.namespace, $0.spec.modelName) }],
            metrics: metrics, logger: logger)
        retrainPolicies = Informer(
            api: Api(client: client, namespace: namespace), indexes: [Self.byModel: { modelKey($0.metadata.namespace, $0.spec.modelName) }],
            metrics: metrics, logger: logger)
        let managed = OperatorLabels.managedSelector
        deployments = Informer(
            api: Api(client: client, namespace: namespace), labelSelector: managed,
            indexes: [Self.byInferenceService: labelKey(OperatorLabels.inferenceService)], metrics: metrics, logger: logger)
        services = Informer(
            api: Api(client: client, namespace: namespace), labelSelector: managed,
            indexes: [Self.byInferenceService: labelKey(OperatorLabels.inferenceService)], metrics: metrics, logger: logger)
        configMaps = Informer(api: Api(client: client, namespace: namespace), labelSelector: managed, metrics: metrics, logger: logger)
        autoscalers = Informer(
            api: Api(client: client, namespace: namespace), labelSelector: managed,
            indexes: [Self.byInferenceService: labelKey(OperatorLabels.inferenceService)], metrics: metrics, logger: logger)
        pods = Informer(
            api: Api(client: client, namespace: namespace), labelSelector: managed,
            indexes: [Self.byInferenceService: labelKey(OperatorLabels.inferenceService)], metrics: metrics, logger: logger)
        jobs = Informer(
            api: Api(client: client, namespace: namespace), labelSelector: managed,
            indexes: [Self.byRetrainPolicy: labelKey(OperatorLabels.retrainPolicy)], metrics: metrics, logger: logger)
    }

    /// Runs every informer until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await models.run() }
            group.addTask { await modelVersions.run() }
            group.addTask { await inferenceServices.run() }
            group.addTask { await retrainPolicies.run() }
            group.addTask { await deployments.run() }
            group.addTask { await services.run() }
            group.addTask { await configMaps.run() }
            group.addTask { await autoscalers.run() }
            group.addTask { await pods.run() }
            group.addTask { await jobs.run() }
        }
    }

    /// Whether every cache holds its first list.
    public var isSynced: Bool {
        models.store.isSynced && modelVersions.store.isSynced && inferenceServices.store.isSynced && retrainPolicies.store.isSynced
            && deployments.store.isSynced && services.store.isSynced && configMaps.store.isSynced && autoscalers.store.isSynced
            && pods.store.isSynced && jobs.store.isSynced
    }

    /// Returns once every cache holds its first list.
    public func waitUntilSynced() async {
        await models.waitUntilSynced()
        await modelVersions.waitUntilSynced()
        await inferenceServices.waitUntilSynced()
        await retrainPolicies.waitUntilSynced()
        await deployments.waitUntilSynced()
        await services.waitUntilSynced()
        await configMaps.waitUntilSynced()
        await autoscalers.waitUntilSynced()
        await pods.waitUntilSynced()
        await jobs.waitUntilSynced()
    }

    /// The versions of a model.
    public func versions(ofModel model: String, namespace: String?) -> [ModelVersion] {
        modelVersions.store.byIndex(Self.byModel, "\(namespace ?? "")/\(model)")
    }

    /// The InferenceServices serving a model.
    public func servingServices(ofModel model: String, namespace: String?) -> [InferenceService] {
        inferenceServices.store.byIndex(Self.byModel, "\(namespace ?? "")/\(model)")
    }
}
