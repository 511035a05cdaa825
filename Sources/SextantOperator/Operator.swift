import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI

/// The Sextant operator: one shared cache per kind and four controllers (Model, ModelVersion,
/// InferenceService, RetrainPolicy), each woken by the objects its decisions read.
public struct SextantOperator: Sendable {
    public let caches: OperatorCaches
    let client: KubernetesClient
    let configuration: OperatorConfiguration
    let metrics: RuntimeMetrics
    let rolloutMetrics: RolloutMetrics
    let events: EventRecorder
    let logger: Logger

    /// Creates the operator. Operators sharing `metrics` must share `rolloutMetrics` too (a
    /// registry holds each series once); by default it is made in `metrics.registry`.
    public init(
        client: KubernetesClient, configuration: OperatorConfiguration, metrics: RuntimeMetrics = RuntimeMetrics(), rolloutMetrics: RolloutMetrics? = nil,
        logger: Logger = Logger(label: "sextant.operator")
    ) {
        self.client = client
        self.configuration = configuration
        self.metrics = metrics
        self.rolloutMetrics = rolloutMetrics ?? RolloutMetrics(registry: metrics.registry)
        self.logger = logger
        let namespace = configuration.namespaces.count == 1 ? configuration.namespaces[0] : nil
        caches = OperatorCaches(client: client, namespace: namespace, metrics: metrics, logger: logger)
        events = EventRecorder(client: client, component: "sextant-operator", logger: logger)
    }

    /// Whether every cache has its first list (the operator's readiness).
    public var isReady: Bool { caches.isSynced }

    /// Runs the caches and the controllers until cancelled.
    public func run() async {
        let caches = self.caches
        let namespace = configuration.namespaces.count == 1 ? configuration.namespaces[0] : nil
        @Sendable func key(_ namespace: String?, _ name: String) -> ObjectKey { ObjectKey(namespace: namespace, name: name) }

        var models = Controller<Model>(
            name: "model", informer: caches.models, api: Api(client: client, namespace: namespace), concurrency: configuration.concurrency, metrics: metrics,
            logger: logger)
        models.watches(caches.modelVersions) { [key($0.metadata.namespace, $0.spec.modelName)] }
        models.watches(caches.inferenceServices) { [key($0.metadata.namespace, $0.spec.modelName)] }

        var versions = Controller<ModelVersion>(
            name: "modelversion", informer: caches.modelVersions, api: Api(client: client, namespace: namespace), concurrency: configuration.concurrency,
            metrics: metrics, logger: logger)
        versions.watches(caches.models) { model in
            caches.versions(ofModel: model.metadata.name ?? "", namespace: model.metadata.namespace).map { ObjectKey($0) }
        }
        // A version's stage depends on its siblings (duplicates, supersession, regression gates).
        versions.watches(caches.modelVersions) { version in
            caches.versions(ofModel: version.spec.modelName, namespace: version.metadata.namespace)
                .filter { $0.metadata.uid != version.metadata.uid }.map { ObjectKey($0) }
        }
        versions.watches(caches.inferenceServices) { service in
            caches.versions(ofModel: service.spec.modelName, namespace: service.metadata.namespace).map { ObjectKey($0) }
        }

        var services = Controller<InferenceService>(
            name: "inferenceservice", informer: caches.inferenceServices, api: Api(client: client, namespace: namespace),
            concurrency: configuration.concurrency, metrics: metrics, logger: logger)
        services.owns(caches.deployments)
        services.owns(caches.services)
        services.owns(caches.configMaps)
        services.owns(caches.autoscalers)
        services.watches(caches.pods) { pod in
            pod.metadata.labels?[OperatorLabels.inferenceService].map { [key(pod.metadata.namespace, $0)] } ?? []
        }
        services.watches(caches.modelVersions) { version in
            caches.servingServices(ofModel: version.spec.modelName, namespace: version.metadata.namespace).map { ObjectKey($0) }
        }

        var policies = Controller<RetrainPolicy>(
            name: "retrainpolicy", informer: caches.retrainPolicies, api: Api(client: client, namespace: namespace), concurrency: configuration.concurrency,
            metrics: metrics, logger: logger)
        policies.owns(caches.jobs)
        policies.watches(caches.inferenceServices) { service in
            caches.retrainPolicies.store.byIndex(OperatorCaches.byModel, "\(service.metadata.namespace ?? "")/\(service.spec.modelName)").map { ObjectKey($0) }
        }

        let modelReconciler = ModelReconciler(caches: caches, events: events)
        let versionReconciler = ModelVersionReconciler(caches: caches, checker: ArtifactChecker(), configuration: configuration, events: events)
        let serviceReconciler = InferenceServiceReconciler(
            caches: caches, configuration: configuration, client: client, events: events, metrics: rolloutMetrics, logger: logger)
        let policyReconciler = RetrainPolicyReconciler(caches: caches, events: events, signalInterval: configuration.signalInterval, logger: logger)
        let (modelController, versionController, serviceController, policyController) = (models, versions, services, policies)

        await withTaskGroup(of: Void.self) { group in
            group.addTask { await caches.run() }
            group.addTask {
                // Decisions read several caches: start deciding once all hold their first list.
                await caches.waitUntilSynced()
                await withTaskGroup(of: Void.self) { controllers in
                    controllers.addTask { await modelController.run(reconcile: modelReconciler.reconcile) }
                    controllers.addTask { await versionController.run(reconcile: versionReconciler.reconcile) }
                    controllers.addTask { await serviceController.run(reconcile: serviceReconciler.reconcile) }
                    controllers.addTask { await policyController.run(reconcile: policyReconciler.reconcile) }
                }
            }
        }
    }
}
