import Foundation
import KubeCore
import SextantAPI
import Testing

@testable import SextantOperator

@Suite("Serving objects")
struct ServingObjectsUnitTests {
    func objects(_ subject: InferenceService = service(), routerImage: String? = nil) -> ServingObjects {
        ServingObjects(service: subject, configuration: OperatorConfiguration(serverImage: "sextant-server:test", routerImage: routerImage))
    }

    static let owner: JSONValue = [
        "apiVersion": "ml.sextant.dev/v1alpha1", "kind": "InferenceService", "name": "fraud-api", "uid": "uid-fraud-api",
        "controller": true, "blockOwnerDeletion": true,
    ]

    func serverLabels(_ number: Int64) -> JSONValue {
        [
            "app.kubernetes.io/name": "sextant-server", "ml.sextant.dev/inference-service": "fraud-api", "ml.sextant.dev/version": .string(String(number)),
            "ml.sextant.dev/model": "fraud",
        ]
    }

    @Test("a version's Deployment runs the server with the model's artifact, probes and resources")
    func deployment() throws {
        let server = ServerSpec(
            resources: ResourceRequirements(limits: ["cpu": "1"], requests: ["memory": "256Mi"]), env: [EnvVar(name: "LOG_LEVEL", value: "debug")],
            nodeSelector: ["pool": "inference"], serviceAccountName: "models", port: 9000)
        var three = version(3)
        three.spec.driftBaseline = DriftBaseline(uri: "s3://models/fraud/v3/baseline.json")
        let deployment = objects(service(server: server)).deployment(for: three, replicas: 2)

        #expect(deployment["apiVersion"] == "apps/v1")
        #expect(deployment["kind"] == "Deployment")
        #expect(deployment["metadata"]?["name"] == "fraud-api-v3")
        #expect(deployment["metadata"]?["namespace"] == "ml")
        #expect(deployment["metadata"]?["labels"]?["app.kubernetes.io/managed-by"] == "sextant-operator")
        #expect(deployment["metadata"]?["labels"]?["ml.sextant.dev/version"] == "3")
        #expect(deployment["spec"]?["replicas"] == 2)
        #expect(deployment["spec"]?["selector"]?["matchLabels"] == serverLabels(3))
        #expect(deployment["spec"]?["template"]?["metadata"]?["labels"]?["app.kubernetes.io/managed-by"] == "sextant-operator")
        #expect(deployment["spec"]?["template"]?["metadata"]?["labels"]?["ml.sextant.dev/version"] == "3")
        let pod = try #require(deployment["spec"]?["template"]?["spec"])
        #expect(pod["nodeSelector"] == ["pool": "inference"])
        #expect(pod["serviceAccountName"] == "models")
        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(pod["containers"]?.arrayValue?.count == 1)
        #expect(container["image"] == "sextant-server:test")
        #expect(
            container["args"] == [
                "serve", "--model-uri", "s3://models/fraud/v3/model.onnx", "--digest", .string(testDigest), "--model-name", "fraud",
                "--model-version", "3", "--host", "0.0.0.0", "--port", "$(PORT)", "--drift-baseline", "s3://models/fraud/v3/baseline.json",
            ])
        #expect(container["env"] == [["name": "PORT", "value": "9000"], ["name": "LOG_LEVEL", "value": "debug"]])
        #expect(container["ports"] == [["name": "http", "containerPort": 9000, "protocol": "TCP"]])
        #expect(container["readinessProbe"]?["httpGet"] == ["path": "/v2/health/ready", "port": "http"])
        #expect(container["livenessProbe"]?["httpGet"] == ["path": "/v2/health/live", "port": "http"])
        #expect(container["resources"] == ["limits": ["cpu": "1"], "requests": ["memory": "256Mi"]])
        #expect(container["imagePullPolicy"] == nil)
    }

    @Test("defaults: port 8080, no drift baseline, the service's image; replicas left to the HPA when nil")
    func deploymentDefaults() throws {
        let deployment = objects(service(server: ServerSpec(image: "custom:1", imagePullPolicy: .always))).deployment(for: version(1), replicas: nil)
        #expect(deployment["spec"]?["replicas"] == nil)
        let container = try #require(deployment["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first)
        #expect(container["image"] == "custom:1")
        #expect(container["imagePullPolicy"] == "Always")
        #expect(container["env"] == [["name": "PORT", "value": "8080"]])
        #expect(container["args"]?.arrayValue?.contains("--drift-baseline") == false)
        #expect(container["resources"] == nil)
    }

    @Test("a version's Service selects that version's pods")
    func versionService() {
        let versionService = objects().versionService(4)
        #expect(versionService["kind"] == "Service")
        #expect(versionService["metadata"]?["name"] == "fraud-api-v4")
        #expect(versionService["spec"]?["selector"] == serverLabels(4))
        #expect(versionService["spec"]?["ports"] == [["name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"]])
    }

    static let stableSelectors: [(TrafficProvider, JSONValue)] = [
        (.router, ["app.kubernetes.io/name": "sextant-router", "ml.sextant.dev/inference-service": "fraud-api"]),
        (.replicaRatio, ["app.kubernetes.io/name": "sextant-server", "ml.sextant.dev/inference-service": "fraud-api"]),
        (
            .gatewayAPI,
            [
                "app.kubernetes.io/name": "sextant-server", "ml.sextant.dev/inference-service": "fraud-api", "ml.sextant.dev/version": "2",
                "ml.sextant.dev/model": "fraud",
            ]
        ),
    ]

    @Test("the stable Service selects per traffic provider", arguments: stableSelectors)
    func stableService(_ provider: TrafficProvider, _ selector: JSONValue) {
        let stable = objects(service(traffic: TrafficSpec(provider: provider))).stableService(stableVersion: 2)
        #expect(stable["metadata"]?["name"] == "fraud-api")
        #expect(stable["spec"]?["selector"] == selector)
        #expect(stable["spec"]?["ports"]?.arrayValue?.first?["port"] == 8080)
    }

    @Test("the router is the default provider")
    func routerByDefault() {
        #expect(objects().stableService(stableVersion: 1)["spec"]?["selector"]?["app.kubernetes.io/name"] == "sextant-router")
    }

    struct ReplicaCase: Sendable, CustomTestStringConvertible {
        var label: String
        var provider: TrafficProvider
        var replicas: Int32?
        var autoscaled = false
        var canaryWeight: Int32?
        var expected: [Int64: Int32?]
        var testDescription: String { label }
    }

    static let replicaCases: [ReplicaCase] = [
        ReplicaCase(label: "one version, default replicas", provider: .router, replicas: nil, canaryWeight: nil, expected: [1: 1]),
        ReplicaCase(label: "one version, three replicas", provider: .router, replicas: 3, canaryWeight: nil, expected: [1: 3]),
        ReplicaCase(label: "router: both versions full size", provider: .router, replicas: 3, canaryWeight: 25, expected: [1: 3, 2: 3]),
        ReplicaCase(label: "gateway: both versions full size", provider: .gatewayAPI, replicas: 2, canaryWeight: 50, expected: [1: 2, 2: 2]),
        ReplicaCase(label: "autoscaled: the HPA decides", provider: .router, replicas: 3, autoscaled: true, canaryWeight: 25, expected: [1: nil, 2: nil]),
        ReplicaCase(label: "autoscaled, one version", provider: .router, replicas: 3, autoscaled: true, canaryWeight: nil, expected: [1: nil]),
        ReplicaCase(label: "ratio 25% of 10", provider: .replicaRatio, replicas: 10, canaryWeight: 25, expected: [1: 7, 2: 3]),
        ReplicaCase(label: "ratio 10% of 10", provider: .replicaRatio, replicas: 10, canaryWeight: 10, expected: [1: 9, 2: 1]),
        ReplicaCase(label: "ratio waiting canary gets one pod", provider: .replicaRatio, replicas: 10, canaryWeight: 0, expected: [1: 9, 2: 1]),
        ReplicaCase(label: "ratio 100% retires the stable pods", provider: .replicaRatio, replicas: 4, canaryWeight: 100, expected: [1: 0, 2: 4]),
        ReplicaCase(label: "ratio with one replica keeps one of each", provider: .replicaRatio, replicas: 1, canaryWeight: 50, expected: [1: 1, 2: 1]),
        ReplicaCase(
            label: "ratio autoscaled: the HPA decides", provider: .replicaRatio, replicas: 4, autoscaled: true, canaryWeight: 50, expected: [1: nil, 2: nil]),
    ]

    @Test("replicas per running version", arguments: replicaCases)
    func replicas(_ test: ReplicaCase) {
        let subject = service(
            traffic: TrafficSpec(provider: test.provider), replicas: test.replicas,
            autoscaling: test.autoscaled ? AutoscalingSpec(maxReplicas: 5) : nil)
        let canary = test.canaryWeight.map { VariantStatus(version: 2, weight: $0) }
        let stable = VariantStatus(version: 1, weight: 100 - (test.canaryWeight ?? 0))
        #expect(objects(subject).replicas(stable: stable, canary: canary) == test.expected)
        #expect(objects(subject).replicas(stable: nil, canary: nil).isEmpty)
    }

    @Test("an HPA per version when autoscaling is set")
    func autoscaler() {
        #expect(objects().autoscaler(1) == nil)
        let scaled = objects(service(autoscaling: AutoscalingSpec(maxReplicas: 6, targetConcurrency: 8, targetCPUUtilizationPercentage: 70))).autoscaler(2)
        #expect(scaled?["kind"] == "HorizontalPodAutoscaler")
        #expect(scaled?["metadata"]?["name"] == "fraud-api-v2")
        #expect(scaled?["spec"]?["scaleTargetRef"] == ["apiVersion": "apps/v1", "kind": "Deployment", "name": "fraud-api-v2"])
        #expect(scaled?["spec"]?["minReplicas"] == 1)
        #expect(scaled?["spec"]?["maxReplicas"] == 6)
        #expect(
            scaled?["spec"]?["metrics"] == [
                ["type": "Resource", "resource": ["name": "cpu", "target": ["type": "Utilization", "averageUtilization": 70]]],
                ["type": "Pods", "pods": ["metric": ["name": "sextant_inflight_requests"], "target": ["type": "AverageValue", "averageValue": "8"]]],
            ])
        let minimal = objects(service(autoscaling: AutoscalingSpec(minReplicas: 2, maxReplicas: 3))).autoscaler(1)
        #expect(minimal?["spec"]?["minReplicas"] == 2)
        #expect(minimal?["spec"]?["metrics"] == nil)
    }

    @Test("the routing table and its ConfigMap")
    func routingTable() throws {
        let sticky = objects(service(traffic: TrafficSpec(stickyHeader: "x-user")))
        let table = sticky.routingTable(variants: [(1, 75, "http://10.0.0.1:8080"), (2, 25, "http://10.0.0.2:8080")])
        #expect(
            table == [
                "routes": [["name": "v1", "url": "http://10.0.0.1:8080", "weight": 75], ["name": "v2", "url": "http://10.0.0.2:8080", "weight": 25]],
                "stickyHeader": "x-user",
            ])
        #expect(objects().routingTable(variants: [(1, 100, "http://a")])["stickyHeader"] == nil)
        let configMap = sticky.routerConfigMap(table: table)
        #expect(configMap["metadata"]?["name"] == "fraud-api-router")
        let text = try #require(configMap["data"]?["routes.json"]?.stringValue)
        #expect(try JSONValue(parsing: Data(text.utf8)) == table)
    }

    @Test("the router Deployment follows its ConfigMap through the API")
    func routerDeployment() throws {
        let router = objects(service(replicas: 5), routerImage: "sextant-router:test").routerDeployment()
        #expect(router["metadata"]?["name"] == "fraud-api-router")
        #expect(router["spec"]?["replicas"] == 2)
        #expect(router["spec"]?["selector"]?["matchLabels"] == ["app.kubernetes.io/name": "sextant-router", "ml.sextant.dev/inference-service": "fraud-api"])
        let pod = try #require(router["spec"]?["template"]?["spec"])
        #expect(pod["serviceAccountName"] == "fraud-api-router")
        let container = try #require(pod["containers"]?.arrayValue?.first)
        #expect(container["image"] == "sextant-router:test")
        #expect(container["args"] == ["route", "--table-configmap", "ml/fraud-api-router", "--host", "0.0.0.0", "--port", "$(PORT)"])
        #expect(container["env"] == [["name": "PORT", "value": "8080"]])
        #expect(objects().routerDeployment()["spec"]?["replicas"] == 1)
        #expect(objects().routerDeployment()["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"] == "sextant-server:test")

        let access = objects().routerAccess()
        #expect(access.map { $0["kind"] } == ["ServiceAccount", "Role", "RoleBinding"])
        #expect(access[1]["rules"]?.arrayValue?.last?["resourceNames"] == ["fraud-api-router"])
        #expect(access[2]["subjects"] == [["kind": "ServiceAccount", "name": "fraud-api-router", "namespace": "ml"]])
    }

    @Test("the HTTPRoute has one weighted backend per version")
    func httpRoute() {
        #expect(objects(service(traffic: TrafficSpec(provider: .gatewayAPI))).httpRoute(variants: [(1, 100)]) == nil)
        let gateway = GatewayAPITraffic(
            parentRefs: [GatewayParentReference(name: "public", namespace: "gateways", sectionName: "https")],
            hostnames: ["fraud.example.com"])
        let route = objects(service(traffic: TrafficSpec(provider: .gatewayAPI, gatewayAPI: gateway))).httpRoute(variants: [(1, 90), (2, 10)])
        #expect(route?["apiVersion"] == "gateway.networking.k8s.io/v1")
        #expect(route?["metadata"]?["name"] == "fraud-api")
        #expect(
            route?["spec"]?["parentRefs"] == [
                ["group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public", "namespace": "gateways", "sectionName": "https"]
            ])
        #expect(route?["spec"]?["hostnames"] == ["fraud.example.com"])
        #expect(
            route?["spec"]?["rules"]?.arrayValue?.first?["backendRefs"] == [
                ["group": "", "kind": "Service", "name": "fraud-api-v1", "port": 8080, "weight": 90],
                ["group": "", "kind": "Service", "name": "fraud-api-v2", "port": 8080, "weight": 10],
            ])
    }

    @Test("every object is owned by the InferenceService and labelled as managed")
    func ownership() throws {
        let gateway = GatewayAPITraffic(parentRefs: [GatewayParentReference(name: "public")])
        let all = objects(service(traffic: TrafficSpec(provider: .gatewayAPI, gatewayAPI: gateway), autoscaling: AutoscalingSpec(maxReplicas: 2)))
        let built: [JSONValue] =
            [
                all.deployment(for: version(1), replicas: nil), all.versionService(1), try #require(all.autoscaler(1)), all.stableService(stableVersion: 1),
                all.routerConfigMap(table: all.routingTable(variants: [])), all.routerDeployment(), try #require(all.httpRoute(variants: [(1, 100)])),
            ] + all.routerAccess()
        for object in built {
            let kind = object["kind"]?.stringValue ?? ""
            #expect(object["metadata"]?["ownerReferences"] == [Self.owner], "\(kind)")
            #expect(object["metadata"]?["namespace"] == "ml", "\(kind)")
            #expect(object["metadata"]?["labels"]?["app.kubernetes.io/managed-by"] == "sextant-operator", "\(kind)")
            #expect(object["metadata"]?["labels"]?["ml.sextant.dev/inference-service"] == "fraud-api", "\(kind)")
        }
    }
}
