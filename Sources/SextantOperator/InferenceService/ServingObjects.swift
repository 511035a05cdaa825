import KubeCore
import KubeRuntime
import SextantAPI

/// The objects an InferenceService needs, built by pure functions from the service, its planned
/// status and the versions it serves (table-tested without a network, as KServe does).
public struct ServingObjects: Sendable {
    /// A version that runs: its ModelVersion, replica count (nil when an HPA owns it), and
    /// whether its pods take traffic through the per-version Service.
    public struct RunningVersion: Sendable {
        public var version: ModelVersion
        public var replicas: Int32?
    }

    public var service: InferenceService
    public var configuration: OperatorConfiguration

    public init(service: InferenceService, configuration: OperatorConfiguration) {
        self.service = service.withDefaults()
        self.configuration = configuration
    }

    var name: String { service.metadata.name ?? "" }
    var namespace: String { service.metadata.namespace ?? "default" }
    var port: Int64 { Int64(service.spec.server?.port ?? 8080) }
    var provider: TrafficProvider { service.spec.traffic?.provider ?? .router }

    var ownerReference: JSONValue {
        (try? JSONValue(encoding: Ownership.controllerReference(to: service))) ?? .null
    }

    func metadata(_ objectName: String, labels: [String: String]) -> JSONValue {
        var all = labels
        all[OperatorLabels.managedBy] = OperatorLabels.managedByValue
        all[OperatorLabels.inferenceService] = name
        return [
            "name": .string(objectName), "namespace": .string(namespace),
            "labels": .object(all.mapValues(JSONValue.string)),
            "ownerReferences": [ownerReference],
        ]
    }

    func serverLabels(_ version: Int64) -> [String: String] {
        [
            OperatorLabels.appName: "sextant-server", OperatorLabels.inferenceService: name, OperatorLabels.version: String(version),
            OperatorLabels.model: service.spec.modelName,
        ]
    }

    var routerLabels: [String: String] {
        [OperatorLabels.appName: "sextant-router", OperatorLabels.inferenceService: name]
    }

    // MARK: Replicas

    /// Replicas of each running version for the planned weights. With ReplicaRatio the pods
    /// share one Service, so the canary's share of pods approximates its weight.
    public func replicas(stable: VariantStatus?, canary: VariantStatus?) -> [Int64: Int32?] {
        let autoscaled = service.spec.autoscaling != nil
        let total = service.spec.replicas ?? 1
        var result: [Int64: Int32?] = [:]
        guard let stable else { return result }
        guard let canary else {
            result[stable.version] = autoscaled ? nil : total
            return result
        }
        if provider == .replicaRatio && !autoscaled {
            let share = Int32((Double(total) * Double(canary.weight) / 100).rounded())
            let canaryReplicas = max(1, min(total, share))
            result[canary.version] = canaryReplicas
            result[stable.version] = canary.weight >= 100 ? 0 : max(1, total - canaryReplicas)
        } else {
            result[stable.version] = autoscaled ? nil : total
            result[canary.version] = autoscaled ? nil : total
        }
        return result
    }

    // MARK: Per-version objects

    /// The Deployment running one version of the model in the Sextant server.
    public func deployment(for version: ModelVersion, replicas: Int32?) -> JSONValue {
        let number = version.spec.version
        let server = service.spec.server ?? ServerSpec()
        var args: [JSONValue] = [
            "serve", "--model-uri", .string(version.spec.artifact.uri), "--digest", .string(version.spec.artifact.digest),
            "--model-name", .string(service.spec.modelName), "--model-version", .string(String(number)),
            "--host", "0.0.0.0", "--port", "$(PORT)",
        ]
        if let baseline = version.spec.driftBaseline?.uri { args += ["--drift-baseline", .string(baseline)] }
        var env: [JSONValue] = [["name": "PORT", "value": .string(String(port))]]
        for variable in server.env ?? [] { env.append((try? JSONValue(encoding: variable)) ?? .null) }
        var container: JSONValue = [
            "name": "server",
            "image": .string(server.image ?? configuration.serverImage),
            "args": .array(args),
            "env": .array(env),
            "ports": [["name": "http", "containerPort": .integer(port), "protocol": "TCP"]],
            "readinessProbe": ["httpGet": ["path": "/v2/health/ready", "port": "http"], "periodSeconds": 5, "failureThreshold": 3],
            "livenessProbe": ["httpGet": ["path": "/v2/health/live", "port": "http"], "initialDelaySeconds": 10, "periodSeconds": 10, "failureThreshold": 3],
        ]
        if let policy = server.imagePullPolicy { container["imagePullPolicy"] = .string(policy.rawValue) }
        if let resources = server.resources { container["resources"] = (try? JSONValue(encoding: resources)) ?? .null }
        var podSpec: JSONValue = ["containers": [container]]
        if let selector = server.nodeSelector { podSpec["nodeSelector"] = .object(selector.mapValues(JSONValue.string)) }
        if let tolerations = server.tolerations { podSpec["tolerations"] = (try? JSONValue(encoding: tolerations)) ?? .null }
        if let account = server.serviceAccountName { podSpec["serviceAccountName"] = .string(account) }
        let labels = serverLabels(number)
        var spec: JSONValue = [
            "selector": ["matchLabels": .object(labels.mapValues(JSONValue.string))],
            "template": [
                "metadata": [
                    "labels": .object(labels.merging([OperatorLabels.managedBy: OperatorLabels.managedByValue]) { a, _ in a }.mapValues(JSONValue.string))
                ],
                "spec": podSpec,
            ],
        ]
        if let replicas { spec["replicas"] = .integer(Int64(replicas)) }
        return ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(ServingNames.version(name, number), labels: labels), "spec": spec]
    }

    /// The Service in front of one version's pods.
    public func versionService(_ number: Int64) -> JSONValue {
        let labels = serverLabels(number)
        return [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(ServingNames.version(name, number), labels: labels),
            "spec": [
                "selector": .object(labels.mapValues(JSONValue.string)),
                "ports": [["name": "http", "port": .integer(port), "targetPort": "http", "protocol": "TCP"]],
            ],
        ]
    }

    /// The HorizontalPodAutoscaler of one version, when autoscaling is set.
    public func autoscaler(_ number: Int64) -> JSONValue? {
        guard let autoscaling = service.spec.autoscaling else { return nil }
        var metrics: [JSONValue] = []
        if let cpu = autoscaling.targetCPUUtilizationPercentage {
            metrics.append(["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": .integer(Int64(cpu))]]])
        }
        if let concurrency = autoscaling.targetConcurrency {
            metrics.append([
                "type": "Pods",
                "pods": ["metric": ["name": "sextant_inflight_requests"], "target": ["type": "AverageValue", "averageValue": .string(String(concurrency))]],
            ])
        }
        var spec: JSONValue = [
            "scaleTargetRef": ["apiVersion": "apps/v1", "kind": "Deployment", "name": .string(ServingNames.version(name, number))],
            "minReplicas": .integer(Int64(autoscaling.minReplicas ?? 1)),
            "maxReplicas": .integer(Int64(autoscaling.maxReplicas)),
        ]
        if !metrics.isEmpty { spec["metrics"] = .array(metrics) }
        return [
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": metadata(ServingNames.version(name, number), labels: serverLabels(number)), "spec": spec,
        ]
    }

    // MARK: Traffic

    /// The Service clients use. It selects the router's pods (Router), every version's pods
    /// (ReplicaRatio) or the stable version's pods (GatewayAPI, whose HTTPRoute splits).
    public func stableService(stableVersion: Int64) -> JSONValue {
        let selector: [String: String] =
            switch provider {
            case .router: routerLabels
            case .replicaRatio: [OperatorLabels.appName: "sextant-server", OperatorLabels.inferenceService: name]
            case .gatewayAPI: serverLabels(stableVersion)
            }
        return [
            "apiVersion": "v1", "kind": "Service", "metadata": metadata(ServingNames.stable(name), labels: [OperatorLabels.appName: "sextant"]),
            "spec": [
                "selector": .object(selector.mapValues(JSONValue.string)),
                "ports": [["name": "http", "port": .integer(port), "targetPort": "http", "protocol": "TCP"]],
            ],
        ]
    }

    /// The router's routing table: each variant's Service address and weight.
    public func routingTable(variants: [(version: Int64, weight: Int32, address: String)]) -> JSONValue {
        var table: JSONValue = [
            "routes": .array(
                variants.map { variant in
                    ["name": .string("v\(variant.version)"), "url": .string(variant.address), "weight": .integer(Int64(variant.weight))]
                })
        ]
        if let header = service.spec.traffic?.stickyHeader { table["stickyHeader"] = .string(header) }
        return table
    }

    /// The ConfigMap the router follows through the API.
    public func routerConfigMap(table: JSONValue) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata(ServingNames.router(name), labels: routerLabels),
            "data": ["routes.json": .string(table.jsonString())],
        ]
    }

    /// The router Deployment: the server image in `route` mode, following its ConfigMap.
    public func routerDeployment() -> JSONValue {
        let server = service.spec.server ?? ServerSpec()
        let container: JSONValue = [
            "name": "router",
            "image": .string(configuration.routerImage ?? server.image ?? configuration.serverImage),
            "args": ["route", "--table-configmap", .string("\(namespace)/\(ServingNames.router(name))"), "--host", "0.0.0.0", "--port", "$(PORT)"],
            "env": [["name": "PORT", "value": .string(String(port))]],
            "ports": [["name": "http", "containerPort": .integer(port), "protocol": "TCP"]],
            "readinessProbe": ["httpGet": ["path": "/ready", "port": "http"], "periodSeconds": 5, "failureThreshold": 3],
        ]
        let labels = routerLabels
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata(ServingNames.router(name), labels: labels),
            "spec": [
                "replicas": .integer(Int64(max(1, min(2, service.spec.replicas ?? 1)))),
                "selector": ["matchLabels": .object(labels.mapValues(JSONValue.string))],
                "template": [
                    "metadata": [
                        "labels": .object(labels.merging([OperatorLabels.managedBy: OperatorLabels.managedByValue]) { a, _ in a }.mapValues(JSONValue.string))
                    ],
                    "spec": ["serviceAccountName": .string(ServingNames.router(name)), "containers": [container]],
                ],
            ],
        ]
    }

    /// The router's ServiceAccount, Role (read its one ConfigMap) and RoleBinding.
    public func routerAccess() -> [JSONValue] {
        let routerName = ServingNames.router(name)
        return [
            ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(routerName, labels: routerLabels)],
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": metadata(routerName, labels: routerLabels),
                "rules": [
                    ["apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "watch"]],
                    ["apiGroups": [""], "resources": ["configmaps"], "resourceNames": [.string(routerName)], "verbs": ["get"]],
                ],
            ],
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": metadata(routerName, labels: routerLabels),
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(routerName)],
                "subjects": [["kind": "ServiceAccount", "name": .string(routerName), "namespace": .string(namespace)]],
            ],
        ]
    }

    /// The Gateway API HTTPRoute with one weighted backendRef per serving version.
    public func httpRoute(variants: [(version: Int64, weight: Int32)]) -> JSONValue? {
        guard let gateway = service.spec.traffic?.gatewayAPI else { return nil }
        var spec: JSONValue = [
            "parentRefs": .array(
                gateway.parentRefs.map { parent in
                    var reference: JSONValue = ["group": "gateway.networking.k8s.io", "kind": "Gateway", "name": .string(parent.name)]
                    if let namespace = parent.namespace { reference["namespace"] = .string(namespace) }
                    if let section = parent.sectionName { reference["sectionName"] = .string(section) }
                    return reference
                }),
            "rules": [
                [
                    "matches": [["path": ["type": "PathPrefix", "value": "/"]]],
                    "backendRefs": .array(
                        variants.map { variant in
                            [
                                "group": "", "kind": "Service", "name": .string(ServingNames.version(name, variant.version)), "port": .integer(port),
                                "weight": .integer(Int64(variant.weight)),
                            ]
                        }),
                ]
            ],
        ]
        if let hostnames = gateway.hostnames { spec["hostnames"] = .array(hostnames.map(JSONValue.string)) }
        return ["apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": metadata(ServingNames.stable(name), labels: [:]), "spec": spec]
    }
}
