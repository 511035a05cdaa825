import Foundation
import KubeCore
import SextantAPI
import Testing

@testable import KubeAPIServer

@Suite("Custom resources: CRDs, schema admission, CEL, printer columns")
struct CustomResourceTests {
    static func examples() throws -> [JSONValue] {
        try FileManager.default.contentsOfDirectory(atPath: Repository.url("manifests/examples").path).sorted()
            .filter { $0.hasSuffix(".yaml") }
            .flatMap { try YAML.documents(from: String(contentsOf: Repository.url("manifests/examples/\($0)"), encoding: .utf8)) }
    }

    static func path(_ plural: String, _ namespace: String) -> String { "/apis/ml.sextant.dev/v1alpha1/namespaces/\(namespace)/\(plural)" }

    @Test("a created CRD is established and served; deleting it removes the resources")
    func lifecycle() async throws {
        let cluster = try await TestCluster.start()
        try await cluster.installSextantCRDs()
        let crd = try await cluster.http.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/models.ml.sextant.dev")
        let conditions = crd.body["status"]?["conditions"]?.arrayValue ?? []
        #expect(conditions.contains { $0["type"] == "Established" && $0["status"] == "True" })
        #expect(crd.body["status"]?["acceptedNames"]?["kind"] == "Model")
        let discovery = try await cluster.http.request("GET", "/apis/ml.sextant.dev/v1alpha1")
        let names = discovery.body["resources"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.contains("models") && names.contains("models/status") && names.contains("inferenceservices"))
        let namespace = try await cluster.namespace("crd-lifecycle")
        let model = try #require(try Self.examples().first { $0["kind"] == "Model" })
        #expect(try await cluster.http.request("POST", Self.path("models", namespace), body: model).status == 201)
        let deleted = try await cluster.http.request("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/models.ml.sextant.dev")
        #expect(deleted.status == 200)
        #expect(try await cluster.http.request("GET", Self.path("models", namespace)).status == 404)
        let recreated = try await cluster.http.request(
            "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: try JSONValue(encoding: Model.customResourceDefinition))
        #expect(recreated.status == 201)
        let list = try await cluster.http.request("GET", Self.path("models", namespace))
        #expect(list.body["items"] == [], "objects do not survive their CRD")
    }

    @Test("invalid CRDs are refused: non-structural schema, bad CEL, wrong name")
    func invalidCRDs() async throws {
        let cluster = try await TestCluster.start()
        var crd = try JSONValue(encoding: Model.customResourceDefinition)
        var untyped = crd
        untyped = JSONValue.setting(
            untyped, ["spec", "versions"],
            to: [
                [
                    "name": "v1alpha1", "served": true, "storage": true,
                    "schema": ["openAPIV3Schema": ["type": "object", "properties": ["spec": ["properties": ["x": ["type": "string"]]]]]],
                ]
            ])
        let nonStructural = try await cluster.http.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: untyped)
        #expect(nonStructural.status == 422)
        #expect(nonStructural.body["message"]?.stringValue?.contains("type must not be empty") == true)
        let badRule = JSONValue.setting(
            crd, ["spec", "versions"],
            to: [
                [
                    "name": "v1alpha1", "served": true, "storage": true,
                    "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-validations": [["rule": "self.a ==", "message": "m"]]]],
                ]
            ])
        let ruleResponse = try await cluster.http.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: badRule)
        #expect(ruleResponse.status == 422)
        #expect(ruleResponse.body["message"]?.stringValue?.contains("compilation failed") == true)
        crd["metadata"]?["name"] = "wrong.example.com"
        let wrongName = try await cluster.http.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", body: crd)
        #expect(wrongName.status == 422)
    }

    @Test("the examples are admitted; schema, CEL and immutability errors come back as Invalid with causes")
    func admission() async throws {
        let cluster = try await TestCluster.start()
        try await cluster.installSextantCRDs()
        let namespace = try await cluster.namespace("crd-admission")
        for example in try Self.examples() {
            let plural = Self.plural(example["kind"]?.stringValue ?? "")
            let response = try await cluster.http.request("POST", Self.path(plural, namespace), body: example)
            #expect(response.status == 201, "\(response.text)")
        }
        let service = try await cluster.http.request("GET", Self.path("inferenceservices", namespace) + "/flower-classifier")
        #expect(service.body.value(at: ["spec", "traffic", "provider"]) == "Router", "schema defaults are applied")

        var broken = try #require(try Self.examples().first { $0["kind"] == "ModelVersion" })
        broken["metadata"]?["name"] = "broken"
        broken = JSONValue.setting(broken, ["spec", "version"], to: 0)
        broken = JSONValue.setting(broken, ["spec", "artifact", "digest"], to: "md5:abc")
        let invalid = try await cluster.http.request("POST", Self.path("modelversions", namespace), body: broken)
        #expect(invalid.status == 422)
        #expect(invalid.body["reason"] == "Invalid")
        let fields = Set(invalid.body["details"]?["causes"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? [])
        #expect(fields == ["spec.version", "spec.artifact.digest"])
        #expect(invalid.body["message"]?.stringValue?.hasPrefix("ModelVersion.ml.sextant.dev \"broken\" is invalid: [") == true)

        let both = try await cluster.http.request(
            "PATCH", Self.path("inferenceservices", namespace) + "/flower-classifier", body: ["spec": ["pinnedVersion": 2]],
            contentType: "application/merge-patch+json")
        #expect(both.status == 422)
        #expect(
            both.body["message"]
                == "InferenceService.ml.sextant.dev \"flower-classifier\" is invalid: spec: Invalid value: \"object\": set trackStage or pinnedVersion, not both"
        )

        let immutable = try await cluster.http.request(
            "PATCH", Self.path("modelversions", namespace) + "/flower-classifier-v1", body: ["spec": ["artifact": ["uri": "s3://other/model.onnx"]]],
            contentType: "application/merge-patch+json")
        #expect(immutable.status == 422)
        #expect(immutable.body["message"]?.stringValue?.contains("artifact is immutable") == true)
        let allowed = try await cluster.http.request(
            "PATCH", Self.path("modelversions", namespace) + "/flower-classifier-v2", body: ["spec": ["stage": "Production"]],
            contentType: "application/merge-patch+json")
        #expect(allowed.status == 200)
        #expect(allowed.body["metadata"]?["generation"] == 2)
    }

    @Test("unknown fields: Strict rejects, Warn warns, Ignore prunes silently")
    func fieldValidation() async throws {
        let cluster = try await TestCluster.start()
        try await cluster.installSextantCRDs()
        let namespace = try await cluster.namespace("crd-fields")
        var model = try #require(try Self.examples().first { $0["kind"] == "Model" })
        model = JSONValue.setting(model, ["spec", "ownr"], to: "typo")
        let strict = try await cluster.http.request("POST", Self.path("models", namespace) + "?fieldValidation=Strict", body: model)
        #expect(strict.status == 400)
        #expect(strict.body["message"]?.stringValue?.contains("unknown field \"spec.ownr\"") == true)
        let warned = try await cluster.http.request("POST", Self.path("models", namespace) + "?fieldValidation=Warn", body: model)
        #expect(warned.status == 201)
        #expect(warned.headers["warning"] == #"299 - "unknown field \"spec.ownr\"""#)
        #expect(warned.body["spec"]?["ownr"] == nil)
        model["metadata"]?["name"] = "ignored-typo"
        let ignored = try await cluster.http.request("POST", Self.path("models", namespace) + "?fieldValidation=Ignore", body: model)
        #expect(ignored.status == 201)
        #expect(ignored.headers["warning"] == nil)
        #expect(ignored.body["spec"]?["ownr"] == nil)
    }

    @Test("status subresource of a custom resource; printer columns in Table output")
    func statusAndColumns() async throws {
        let cluster = try await TestCluster.start()
        try await cluster.installSextantCRDs()
        let namespace = try await cluster.namespace("crd-status")
        let version = try #require(try Self.examples().first { $0["kind"] == "ModelVersion" })
        let created = try await cluster.http.request("POST", Self.path("modelversions", namespace), body: version)
        var withStatus = created.body
        withStatus["status"] = [
            "stage": "Production", "observedGeneration": 1,
            "conditions": [["type": "Ready", "status": "True", "reason": "Serving", "message": "", "lastTransitionTime": "2026-11-23T12:00:00Z"]],
        ]
        let updated = try await cluster.http.request("PUT", Self.path("modelversions", namespace) + "/flower-classifier-v1/status", body: withStatus)
        #expect(updated.status == 200, "\(updated.text)")
        #expect(updated.body["status"]?["stage"] == "Production")
        var badStatus = updated.body
        badStatus["status"] = ["stage": "Gold"]
        let rejected = try await cluster.http.request("PUT", Self.path("modelversions", namespace) + "/flower-classifier-v1/status", body: badStatus)
        #expect(rejected.status == 422)
        let table = try await cluster.http.request(
            "GET", Self.path("modelversions", namespace), headers: ["Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"])
        let columns = table.body["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(columns == ["Name", "Model", "Version", "Requested", "Stage", "Ready", "Reason", "Artifact", "Age"])
        let cells = table.body["rows"]?.arrayValue?.first?["cells"]?.arrayValue ?? []
        #expect(Array(cells.prefix(6)) == ["flower-classifier-v1", "flower-classifier", 1, "Production", "Production", "True"])
    }

    static func plural(_ kind: String) -> String {
        ["Model": "models", "ModelVersion": "modelversions", "InferenceService": "inferenceservices", "RetrainPolicy": "retrainpolicies"][kind] ?? ""
    }
}
