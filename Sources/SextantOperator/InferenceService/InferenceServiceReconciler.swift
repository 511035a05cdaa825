import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import Logging
import SextantAPI

/// Reconciles an InferenceService: picks the version to serve, steps the rollout state machine,
/// writes the per-version Deployments/Services/HPAs and the traffic split, removes what is
/// stale, and writes status (only when it changed) and Events (only on transitions).
public struct InferenceServiceReconciler: Sendable {
    let caches: OperatorCaches
    let configuration: OperatorConfiguration
    let writer: ChildWriter
    let events: EventRecorder
    let metrics: RolloutMetrics
    let logger: Logger
    let smokeTester = SmokeTester()
    let collector = CanaryMetricsCollector()
    /// How long a retired version keeps running after the traffic left it, so requests in
    /// flight through the old routing finish.
    let retireDelay: Double = 3

    public init(
        caches: OperatorCaches, configuration: OperatorConfiguration, client: KubernetesClient, events: EventRecorder, metrics: RolloutMetrics, logger: Logger
    ) {
        self.caches = caches
        self.configuration = configuration
        self.writer = ChildWriter(client: client)
        self.events = events
        self.metrics = metrics
        self.logger = logger
    }

    public func reconcile(_ object: InferenceService, _ context: Controller<InferenceService>.Context) async throws -> Action {
        guard object.metadata.deletionTimestamp == nil else { return .done }  // children go with their owner
        let service = object.withDefaults()
        let name = service.metadata.name ?? ""
        let namespace = service.metadata.namespace
        let key = "\(namespace ?? "")/\(name)"
        let versions = caches.versions(ofModel: service.spec.modelName, namespace: namespace)
        let deployments = caches.deployments.store.byIndex(OperatorCaches.byInferenceService, key)
        let pods = caches.pods.store.byIndex(OperatorCaches.byInferenceService, key)
        let now = KubeTime.now()

        let health = VariantObserver.health(deployments: deployments, pods: pods)
        let objects = ServingObjects(service: service, configuration: configuration)
        var plan: RolloutPlan
        var serving: [(version: Int64, weight: Int32)]
        var replicas: [Int64: Int32?]
        if let experiment = service.spec.experiment {
            let measured = await measureExperiment(service, experiment)
            plan = ExperimentPlanner.plan(service: service, experiment: experiment, health: health, measured: measured, now: now)
            serving = ExperimentPlanner.serving(experiment, status: plan.status.experiment)
            let perVersion: Int32? = service.spec.autoscaling == nil ? (service.spec.replicas ?? 1) : nil
            replicas = Dictionary(serving.map { ($0.version, perVersion) }, uniquingKeysWith: { a, _ in a })
        } else {
            var observed = RolloutObservation(
                service: service, desired: Candidates.desiredVersion(for: service, among: versions), health: health, now: now)
            try await analyse(&observed, versions: versions)
            if let results = observed.analysisResults, !results.isEmpty {
                metrics.recordVerdicts(namespace: namespace ?? "", service: name, results)
            }
            plan = RolloutPlanner.plan(observed)
            plan.status.experiment = nil
            serving = [plan.status.stable, plan.status.canary].compactMap { $0 }.map { ($0.version, $0.weight) }
            replicas = objects.replicas(stable: plan.status.stable, canary: plan.status.canary)
        }

        let byNumber = Dictionary(versions.map { ($0.spec.version, $0) }, uniquingKeysWith: { a, _ in a })
        var requeue = plan.requeueAfter
        do {
            requeue = min(
                requeue,
                try await writeChildren(
                    objects, status: plan.status, serving: serving, replicas: replicas, versions: byNumber, deployments: deployments, now: now))
            plan.status.conditions?.set(
                Condition(
                    type: InferenceServiceConditions.trafficReady, status: .true, reason: "Applied",
                    message: "traffic split by \(service.spec.traffic?.provider?.rawValue ?? "Router")",
                    observedGeneration: service.metadata.generation, lastTransitionTime: now))
        } catch let failure as TrafficFailure {
            // Nothing we watch announces the missing kind being installed: look again later.
            requeue = min(requeue, .seconds(30))
            var conditions = plan.status.conditions ?? []
            conditions.set(
                Condition(
                    type: InferenceServiceConditions.trafficReady, status: .false, reason: failure.reason, message: failure.message,
                    observedGeneration: service.metadata.generation, lastTransitionTime: now))
            plan.status.conditions = conditions
        }
        metrics.recordTraffic(namespace: namespace ?? "", service: name, serving: serving)
        plan.status.url = "http://\(name).\(namespace ?? "default").svc.cluster.local" + (objects.port == 80 ? "" : ":\(objects.port)")

        if plan.status != object.status {
            var updated = object
            updated.status = plan.status
            _ = try await Api<InferenceService>(client: context.client, namespace: namespace).updateStatus(updated)
        }
        for event in plan.events {
            await events.record(object, type: event.warning ? .warning : .normal, reason: event.reason, message: event.message)
        }
        return requeue.map { .requeue(after: $0) } ?? .done
    }

    /// Runs the smoke test of a canary that is ready for its first traffic, and judges a canary
    /// step whose interval is over, adding both to what the planner sees.
    private func analyse(_ observed: inout RolloutObservation, versions: [ModelVersion]) async throws {
        let service = observed.service
        guard let canary = service.status?.canary, let stable = service.status?.stable else { return }
        let name = service.metadata.name ?? ""
        let namespace = service.metadata.namespace
        func url(_ serviceName: String) -> String? {
            ServiceAddress.baseURL(of: caches.services.store.get(ObjectKey(namespace: namespace, name: serviceName)))
        }
        if RolloutObservation.awaitsSmokeTest(service, health: observed.health),
            let version = versions.first(where: { $0.spec.version == canary.version }), version.spec.smokeTest != nil
        {
            if let base = url(ServingNames.version(name, canary.version)) {
                observed.smokeTest = await smokeTester.run(version, model: service.spec.modelName, baseURL: base)
            } else {
                observed.smokeTest = .pending("the Service of version \(canary.version) has no cluster IP yet")
            }
        }
        guard RolloutObservation.stepIsDue(service, now: observed.now), let analysis = service.spec.rollout?.analysis,
            !(analysis.metrics ?? []).isEmpty
        else { return }
        let window = DurationString.seconds(service.spec.rollout?.stepInterval ?? "1m") ?? 60
        let measured = await collector.measure(
            CanaryMetricsCollector.Target(
                service: service, canaryVersion: canary.version, stableVersion: stable.version,
                stableServiceURL: url(ServingNames.stable(name)),
                versionURLs: [canary.version: url(ServingNames.version(name, canary.version)), stable.version: url(ServingNames.version(name, stable.version))]
                    .compactMapValues { $0 },
                windowSeconds: window))
        let judged = AnalysisJudge.judge(analysis, measured, window: service.spec.rollout?.stepInterval ?? "1m", now: observed.now)
        observed.verdict = judged.verdict
        observed.analysisResults = judged.results
    }

    /// What each experiment variant showed since the experiment started: online accuracy from
    /// each version's server, or requests/latency from the router over the experiment's window.
    private func measureExperiment(_ service: InferenceService, _ experiment: ExperimentSpec) async -> ExperimentObservation {
        var observed = ExperimentObservation()
        let name = service.metadata.name ?? ""
        let namespace = service.metadata.namespace
        func url(_ serviceName: String) -> String? {
            ServiceAddress.baseURL(of: caches.services.store.get(ObjectKey(namespace: namespace, name: serviceName)))
        }
        switch experiment.metric {
        case .accuracy:
            for variant in experiment.variants {
                guard let base = url(ServingNames.version(name, variant.version)),
                    let stats = await collector.get("\(base)/v2/models/\(service.spec.modelName)/stats"),
                    let count = stats["accuracy"]?["count"]?.integerValue
                else { continue }
                let value = stats["accuracy"]?["value"]?.doubleValue ?? 0
                observed.proportions[variant.version] = (Int((value * Double(count)).rounded()), Int(count))
            }
        case .business:
            let metric = experiment.businessMetric ?? ""
            for variant in experiment.variants {
                guard let base = url(ServingNames.version(name, variant.version)),
                    let stats = await collector.get("\(base)/v2/models/\(service.spec.modelName)/stats"),
                    let moments = stats["business"]?[metric], let count = moments["count"]?.integerValue, let mean = moments["mean"]?.doubleValue
                else { continue }
                observed.moments[variant.version] = (mean, moments["variance"]?.doubleValue ?? 0, Int(count))
            }
        case .successRate, .latency:
            let since = service.status?.experiment?.startedAt.date ?? Date()
            let window = max(1, Int(Date().timeIntervalSince(since).rounded(.up)))
            guard let base = url(ServingNames.stable(name)), let stats = await collector.get("\(base)/stats?window=\(window)") else { break }
            for variant in stats["variants"]?.arrayValue ?? [] {
                guard let version = variant["name"]?.stringValue.flatMap({ Int64($0.dropFirst()) }) else { continue }
                let requests = Int(variant["requests"]?.integerValue ?? 0)
                if experiment.metric == .successRate {
                    observed.proportions[version] = (requests - Int(variant["errors"]?.integerValue ?? 0), requests)
                } else if let mean = variant["latency"]?["mean"]?.doubleValue {
                    observed.moments[version] = (mean * 1000, (variant["latency"]?["variance"]?.doubleValue ?? 0) * 1e6, requests)
                }
            }
        }
        return observed
    }

    struct TrafficFailure: Error {
        var reason: String
        var message: String
    }

    /// Writes every child the planned status needs and deletes the stale ones. Returns when to
    /// look again for a retirement that is waiting for traffic to drain.
    private func writeChildren(
        _ objects: ServingObjects, status: InferenceServiceStatus, serving: [(version: Int64, weight: Int32)], replicas: [Int64: Int32?],
        versions: [Int64: ModelVersion], deployments: [Deployment], now: KubeTime
    ) async throws -> Duration? {
        let name = objects.name
        let namespace = objects.namespace
        let key = "\(namespace)/\(name)"
        let cachedServices = caches.services.store.byIndex(OperatorCaches.byInferenceService, key)
        let cachedAutoscalers = caches.autoscalers.store.byIndex(OperatorCaches.byInferenceService, key)
        func cached<K: Resource>(_ list: [K], _ objectName: String) -> K? { list.first { $0.metadata.name == objectName } }

        // 1. Versions that run, with their replica counts.
        for (number, count) in replicas {
            guard let version = versions[number] else { continue }
            let versionName = ServingNames.version(name, number)
            try await writer.apply(objects.deployment(for: version, replicas: count), as: Deployment.self, cached: cached(deployments, versionName))
            try await writer.apply(objects.versionService(number), as: Service.self, cached: cached(cachedServices, versionName))
            if let autoscaler = objects.autoscaler(number) {
                try await writer.apply(autoscaler, as: HorizontalPodAutoscaler.self, cached: cached(cachedAutoscalers, versionName))
            }
        }
        // A rolled-back version stays, scaled to zero, for inspection until the next rollout.
        var kept = Set(replicas.keys)
        if let last = status.lastRollout, last.result != .promoted, status.canary == nil, !kept.contains(last.version),
            let deployment = cached(deployments, ServingNames.version(name, last.version))
        {
            kept.insert(last.version)
            if deployment.spec?["replicas"]?.integerValue != 0 {
                // The whole object again: an apply that left out fields this manager owns would remove them.
                if let version = versions[last.version] {
                    try await writer.apply(objects.deployment(for: version, replicas: 0), as: Deployment.self, cached: nil)
                } else {
                    try await writer.scale(Deployment.self, namespace: namespace, name: ServingNames.version(name, last.version), to: 0)
                }
            }
        }

        // 2. The traffic split.
        let weighted = serving.filter { $0.weight > 0 }
        var routedVersions = Set(weighted.map(\.version))
        if let stable = status.stable ?? serving.first.map({ VariantStatus(version: $0.version, weight: $0.weight) }) {
            try await writer.apply(
                objects.stableService(stableVersion: stable.version), as: Service.self, cached: cached(cachedServices, ServingNames.stable(name)))
            switch objects.provider {
            case .router:
                let variants = weighted.map { variant in
                    (
                        variant.version, variant.weight,
                        address(
                            of: cached(cachedServices, ServingNames.version(name, variant.version)), name: ServingNames.version(name, variant.version),
                            objects: objects)
                    )
                }
                let configMapName = ServingNames.router(name)
                let cachedConfigMap = caches.configMaps.store.get(ObjectKey(namespace: namespace, name: configMapName))
                try await writer.apply(objects.routerConfigMap(table: objects.routingTable(variants: variants)), as: ConfigMap.self, cached: cachedConfigMap)
                let routerDeployment = cached(deployments, configMapName)
                if routerDeployment == nil {
                    for access in objects.routerAccess() {
                        try await writer.apply(access, resource: Self.resource(of: access))
                    }
                }
                try await writer.apply(objects.routerDeployment(), as: Deployment.self, cached: routerDeployment)
                // Versions still named by the router's current table keep running.
                if let table = cachedConfigMap?.data?["routes.json"] {
                    for version in versions.keys where table.contains("\"v\(version)\"") { routedVersions.insert(version) }
                }
            case .gatewayAPI:
                guard let route = objects.httpRoute(variants: weighted.map { ($0.version, $0.weight) }) else {
                    throw TrafficFailure(reason: "GatewayNotConfigured", message: "spec.traffic.gatewayAPI.parentRefs is required for provider GatewayAPI")
                }
                do {
                    try await writer.apply(route, resource: GroupVersionResource(group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes"))
                } catch KubernetesError.notFound {
                    throw TrafficFailure(
                        reason: "GatewayAPINotInstalled",
                        message:
                            "the HTTPRoute kind (gateway.networking.k8s.io/v1) is not served by this cluster; install the Gateway API CRDs or use provider Router"
                    )
                }
            case .replicaRatio:
                break
            }
        }

        // 3. Stale per-version objects: retired once no traffic can reach them.
        var requeue: Duration?
        let recentlyPromoted = status.lastRollout.map { $0.result == .promoted && now.date.timeIntervalSince($0.time.date) < retireDelay } ?? false
        for deployment in deployments where deployment.metadata.labels?[OperatorLabels.appName] == "sextant-server" {
            guard let number = deployment.metadata.labels?[OperatorLabels.version].flatMap({ Int64($0) }), !kept.contains(number) else { continue }
            if routedVersions.contains(number) || recentlyPromoted {
                requeue = .seconds(retireDelay)
                continue
            }
            try await writer.delete(Deployment.self, namespace: namespace, name: ServingNames.version(name, number))
            logger.info("retired version", metadata: ["k8s.object": "\(namespace)/\(name)", "sextant.version": "\(number)"])
        }
        let running = Set(replicas.keys)
        for service in cachedServices {
            guard let number = service.metadata.labels?[OperatorLabels.version].flatMap({ Int64($0) }), !running.contains(number),
                !routedVersions.contains(number)
            else { continue }
            if recentlyPromoted { continue }
            try await writer.delete(Service.self, namespace: namespace, name: service.metadata.name ?? "")
        }
        for autoscaler in cachedAutoscalers {
            guard let number = autoscaler.metadata.labels?[OperatorLabels.version].flatMap({ Int64($0) }), !running.contains(number) else { continue }
            try await writer.delete(HorizontalPodAutoscaler.self, namespace: namespace, name: autoscaler.metadata.name ?? "")
        }
        if objects.provider != .router, let router = cached(deployments, ServingNames.router(name)) {
            try await writer.delete(Deployment.self, namespace: namespace, name: router.metadata.name ?? "")
        }
        return requeue
    }

    /// Where the router reaches a version: its Service's cluster IP (stable for the Service's
    /// life, and what the local runtime's service proxy listens on), or its DNS name.
    private func address(of service: Service?, name: String, objects: ServingObjects) -> String {
        ServiceAddress.baseURL(of: service) ?? "http://\(name).\(objects.namespace).svc.cluster.local:\(objects.port)"
    }

    static func resource(of object: JSONValue) -> GroupVersionResource {
        switch object["kind"]?.stringValue {
        case "ServiceAccount": GroupVersionResource(group: "", version: "v1", resource: "serviceaccounts")
        case "Role": GroupVersionResource(group: "rbac.authorization.k8s.io", version: "v1", resource: "roles")
        default: GroupVersionResource(group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings")
        }
    }
}

func min(_ a: Duration?, _ b: Duration?) -> Duration? {
    switch (a, b) {
    case (nil, let b): b
    case (let a, nil): a
    case (let a?, let b?): Swift.min(a, b)
    }
}
