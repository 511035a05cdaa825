import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantOperator
import SextantTestSupport
import Testing

/// The other two traffic providers end to end: ReplicaRatio (one Service over every version's
/// pods) and Gateway API (an HTTPRoute with weighted backendRefs).
@Suite("Traffic providers end to end", .serialized, .timeLimit(.minutes(3)))
struct TrafficProviderTests {
    @Test("ReplicaRatio: the stable Service reaches the pods directly, and a rollout completes")
    func replicaRatio() async throws {
        try await OperatorTestEnvironment.with(namespace: "provider-ratio") { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            var service = Fixtures.inferenceService(provider: "ReplicaRatio", steps: [50, 100], stepInterval: "1s")
            service["spec"]?["replicas"] = 2
            try await env.apply(service)
            try await env.eventually(within: 60, "v1 serving") {
                try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("Ready") == true
            }
            let stable = try await env.get(Service.self, "flower-classifier")
            #expect(stable.spec?["selector"]?["app.kubernetes.io/name"] == "sextant-server")
            #expect(stable.spec?["selector"]?["ml.sextant.dev/version"] == nil)
            let url = try await env.serviceURL("flower-classifier")
            try await env.eventually(within: 60, "a prediction through the shared Service") { await OperatorTestEnvironment.predict(url).version == "1" }
            await #expect(throws: KubernetesError.self) { _ = try await env.get(Deployment.self, "flower-classifier-router") }

            try await env.apply(Fixtures.version(2, stage: "Production"))
            var canaryReplicas: [Int64] = []
            try await env.eventually(within: 90, "v2 promoted") {
                if let canary = try? await env.get(Deployment.self, "flower-classifier-v2"), let replicas = canary.spec?["replicas"]?.integerValue {
                    if canaryReplicas.last != replicas { canaryReplicas.append(replicas) }
                }
                let status = try await env.get(InferenceService.self, "flower-classifier").status
                return status?.stable?.version == 2 && status?.canary == nil
            }
            #expect(canaryReplicas.contains(1), "the canary's replicas followed its weight: \(canaryReplicas)")
            try await env.eventually(within: 60, "predictions from v2") { await OperatorTestEnvironment.predict(url).version == "2" }
        }
    }

    @Test("Gateway API: a clear condition without the HTTPRoute kind, weighted backendRefs once it exists")
    func gatewayAPI() async throws {
        try await OperatorTestEnvironment.with(namespace: "provider-gateway") { env in
            try await env.apply(Fixtures.model())
            try await env.apply(Fixtures.version(1, stage: "Production"))
            var service = Fixtures.inferenceService(provider: "GatewayAPI")
            service["spec"]?["traffic"]?["gatewayAPI"] = ["parentRefs": [["name": "public", "namespace": "gateways"]], "hostnames": ["flowers.example.com"]]
            try await env.apply(service)
            try await env.eventually(within: 60, "TrafficReady=False GatewayAPINotInstalled") {
                let condition = try await env.get(InferenceService.self, "flower-classifier").status?.conditions?[type: "TrafficReady"]
                return condition?.status == .false && condition?.reason == "GatewayAPINotInstalled"
            }
            // A minimal HTTPRoute CRD (the real one is much larger; the operator only writes it).
            let crd: JSONValue = [
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": ["name": "httproutes.gateway.networking.k8s.io"],
                "spec": [
                    "group": "gateway.networking.k8s.io", "scope": "Namespaced",
                    "names": ["plural": "httproutes", "singular": "httproute", "kind": "HTTPRoute", "listKind": "HTTPRouteList"],
                    "versions": [
                        [
                            "name": "v1", "served": true, "storage": true,
                            "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                        ]
                    ],
                ],
            ]
            _ = try await DynamicApi(
                client: env.client, resource: GroupVersionResource(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions"),
                namespaced: false, namespace: nil
            ).create(crd)
            let routes = DynamicApi(
                client: env.client, resource: GroupVersionResource(group: "gateway.networking.k8s.io", version: "v1", resource: "httproutes"), namespaced: true,
                namespace: env.namespace)
            // The operator looks again every 30 s while the kind is missing; nudge it to be quick.
            try await env.patch(InferenceService.self, "flower-classifier", ["metadata": ["annotations": ["test/nudge": "1"]]])
            try await env.eventually(within: 60, "the HTTPRoute") { (try? await routes.get("flower-classifier")) != nil }
            let route = try await routes.get("flower-classifier")
            let backends = route.value(at: ["spec", "rules"])?.arrayValue?.first?["backendRefs"]?.arrayValue ?? []
            #expect(backends.map { $0["name"]?.stringValue ?? "" } == ["flower-classifier-v1"])
            #expect(backends.first?["weight"] == 100)
            #expect(route.value(at: ["spec", "parentRefs"])?.arrayValue?.first?["name"] == "public")
            #expect(route.value(at: ["spec", "hostnames"]) == ["flowers.example.com"])
            try await env.eventually(within: 60, "TrafficReady=True") {
                try await env.get(InferenceService.self, "flower-classifier").status?.conditions?.isTrue("TrafficReady") == true
            }
        }
    }
}
