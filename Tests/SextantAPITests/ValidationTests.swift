import KubeCore
import Testing

@testable import SextantAPI

/// Bad input, case by case. Each case changes one field of a valid object and names the field
/// the error must point at, and which layer must catch it: the CRD schema (what the API server
/// enforces at admission), the Swift validation (what the operator enforces), or both. Rules
/// that span fields are CEL rules in the CRD and are checked here on the Swift side.
@Suite("Validation of bad input")
struct ValidationTests {
    /// Which layer catches a case. `swiftAndRule(path)`: the Swift validation at `field`, and a CEL
    /// rule of the CRD at `path` (rules report on the node that declares them).
    enum Layer: Sendable { case both, schemaOnly, swiftOnly, swiftAndRule(String) }

    struct Case: Sendable, CustomTestStringConvertible {
        let kind: String
        let change: [String]
        let value: JSONValue
        let field: String
        let layer: Layer
        var testDescription: String { "\(kind) \(change.joined(separator: ".")) = \(value.jsonString())" }
    }

    static func c(_ kind: String, _ change: String, _ value: JSONValue, _ field: String? = nil, _ layer: Layer = .both) -> Case {
        Case(kind: kind, change: change.split(separator: ".").map(String.init), value: value, field: field ?? change, layer: layer)
    }

    static let cases: [Case] = [
        // Model
        c("Model", "spec.owner", "", nil),
        c("Model", "spec.task", "Vision", nil, .schemaOnly),
        c(
            "Model", "spec.signature",
            ["inputs": [["name": "x", "datatype": "FP32", "shape": [-2]]], "outputs": [["name": "y", "datatype": "FP32", "shape": [-1]]]],
            "spec.signature.inputs[0].shape[0]"),
        c(
            "Model", "spec.signature",
            ["inputs": [["name": "x", "datatype": "FP33", "shape": [1]]], "outputs": [["name": "y", "datatype": "FP32", "shape": [-1]]]],
            "spec.signature.inputs[0].datatype", .schemaOnly),
        c(
            "Model", "spec.signature",
            [
                "inputs": [["name": "x", "datatype": "FP32", "shape": [1]], ["name": "x", "datatype": "FP32", "shape": [1]]],
                "outputs": [["name": "y", "datatype": "FP32", "shape": [-1]]],
            ], "spec.signature.inputs[1]"),
        c("Model", "spec.promotion", ["production": ["metrics": [["metric": "accuracy", "min": 0.9, "max": 0.5]]]], "spec.promotion.production.metrics[0]"),
        c("Model", "spec.promotion", ["production": ["metrics": [["metric": "accuracy"]]]], "spec.promotion.production.metrics[0]"),
        c("Model", "spec.promotion", ["staging": ["metrics": [["metric": "9lives", "min": 1]]]], "spec.promotion.staging.metrics[0].metric"),
        c(
            "Model", "spec.promotion", ["production": ["noRegression": [["metric": "auc", "maxRegression": -0.1]]]],
            "spec.promotion.production.noRegression[0].maxRegression"),
        c("Model", "spec.retention", ["archivedVersionsToKeep": -1], "spec.retention.archivedVersionsToKeep"),
        c("Model", "metadata.name", "Churn_Model", nil, .swiftOnly),
        // ModelVersion
        c("ModelVersion", "spec.version", 0, nil),
        c("ModelVersion", "spec.version", -3, nil),
        c("ModelVersion", "spec.stage", "Prod", nil, .schemaOnly),
        c("ModelVersion", "spec.artifact.digest", "sha256:abc", nil),
        c("ModelVersion", "spec.artifact.digest", "md5:d41d8cd98f00b204e9800998ecf8427e", nil),
        c("ModelVersion", "spec.artifact.digest", .string("sha256:" + String(repeating: "AB", count: 32)), nil),
        c("ModelVersion", "spec.artifact.uri", "ftp://host/model.onnx", nil),
        c("ModelVersion", "spec.artifact.uri", "s3://bucket", nil),
        c("ModelVersion", "spec.artifact.uri", "file://relative/model.onnx", nil),
        c("ModelVersion", "spec.artifact.format", "PMML", nil, .schemaOnly),
        c("ModelVersion", "spec.metrics", ["1bad": 0.5], "spec.metrics[1bad]", .swiftAndRule("spec.metrics")),
        c("ModelVersion", "spec.metrics", ["accuracy": "high"], "spec.metrics[accuracy]", .schemaOnly),
        c("ModelVersion", "spec.modelName", "Churn", nil),
        c("ModelVersion", "spec.driftBaseline", ["uri": "baseline.json"], "spec.driftBaseline.uri"),
        // InferenceService
        c("InferenceService", "spec.rollout", ["steps": [10, 150]], "spec.rollout.steps[1]"),
        c("InferenceService", "spec.rollout", ["steps": [-5, 100]], "spec.rollout.steps[0]"),
        c("InferenceService", "spec.rollout", ["steps": [50, 25, 100]], "spec.rollout.steps[1]", .swiftAndRule("spec.rollout.steps")),
        c("InferenceService", "spec.rollout", ["steps": [10, 10, 100]], "spec.rollout.steps[1]", .swiftAndRule("spec.rollout.steps")),
        c("InferenceService", "spec.rollout", ["steps": []], "spec.rollout.steps"),
        c("InferenceService", "spec.rollout", ["stepInterval": "5 minutes"], "spec.rollout.stepInterval"),
        c("InferenceService", "spec.rollout", ["strategy": "Linear"], "spec.rollout.strategy", .schemaOnly),
        c(
            "InferenceService", "spec.rollout", ["analysis": ["metrics": [["name": "q", "type": "Prometheus", "max": 1]], "prometheusURL": "http://p:9090"]],
            "spec.rollout.analysis.metrics[0].query", .swiftAndRule("spec.rollout.analysis.metrics[0]")),
        c("InferenceService", "spec.rollout", ["analysis": ["metrics": [["name": "q", "type": "SuccessRate"]]]], "spec.rollout.analysis.metrics[0]"),
        c(
            "InferenceService", "spec.rollout",
            ["analysis": ["metrics": [["name": "a", "type": "SuccessRate", "min": 1], ["name": "a", "type": "LatencyP99", "max": 1]]]],
            "spec.rollout.analysis.metrics[1]"),
        c("InferenceService", "spec.rollout", ["shadow": ["percent": 101]], "spec.rollout.shadow.percent"),
        c("InferenceService", "spec.trackStage", "Development", nil),
        c("InferenceService", "spec.pinnedVersion", 0, nil),
        c("InferenceService", "spec.pinnedVersion", 3, "spec"),  // together with trackStage, set below
        c(
            "InferenceService", "spec.autoscaling", ["minReplicas": 5, "maxReplicas": 2, "targetConcurrency": 4], "spec.autoscaling.minReplicas",
            .swiftAndRule("spec.autoscaling")),
        c("InferenceService", "spec.autoscaling", ["maxReplicas": 2, "targetConcurrency": 4, "targetCPUUtilizationPercentage": 50], "spec.autoscaling"),
        c("InferenceService", "spec.autoscaling", ["maxReplicas": 0, "targetConcurrency": 4], "spec.autoscaling.maxReplicas"),
        c("InferenceService", "spec.traffic", ["provider": "GatewayAPI"], "spec.traffic.gatewayAPI", .swiftAndRule("spec.traffic")),
        c("InferenceService", "spec.traffic", ["provider": "Istio"], "spec.traffic.provider", .schemaOnly),
        c("InferenceService", "spec.server", ["port": 70000], "spec.server.port"),
        c("InferenceService", "spec.server", ["resources": ["limits": ["cpu": "lots"]]], "spec.server.resources.limits[cpu]"),
        c("InferenceService", "spec.server", ["env": [["name": "A", "value": "1", "valueFrom": ["fieldRef": ["fieldPath": "x"]]]]], "spec.server.env[0]"),
        c("InferenceService", "spec.server", ["env": [["name": "1 bad"]]], "spec.server.env[0].name"),
        c("InferenceService", "spec.replicas", -1, nil),
        c("InferenceService", "metadata.name", "Churn", nil),
        c("InferenceService", "metadata.name", .string(String(repeating: "a", count: 46)), nil),
        // RetrainPolicy
        c("RetrainPolicy", "spec.triggers", ["schedule": ["cron": "61 * * * *"]], "spec.triggers.schedule.cron", .swiftOnly),
        c("RetrainPolicy", "spec.triggers", ["schedule": ["cron": "0 0 31 2-1 *"]], "spec.triggers.schedule.cron", .swiftOnly),
        c("RetrainPolicy", "spec.triggers", ["schedule": ["cron": "* * *"]], "spec.triggers.schedule.cron"),
        c("RetrainPolicy", "spec.triggers", ["schedule": ["cron": "@fortnightly"]], "spec.triggers.schedule.cron"),
        c("RetrainPolicy", "spec.triggers", ["schedule": ["cron": "@daily", "timeZone": "Mars/Olympus_Mons"]], "spec.triggers.schedule.timeZone", .swiftOnly),
        c("RetrainPolicy", "spec.triggers", ["schedule": ["cron": "@daily", "timeZone": "not a zone"]], "spec.triggers.schedule.timeZone"),
        c("RetrainPolicy", "spec.triggers", ["drift": ["inferenceService": "churn", "threshold": -1]], "spec.triggers.drift.threshold"),
        c("RetrainPolicy", "spec.triggers", ["drift": ["inferenceService": "churn", "threshold": 0.2, "for": "ten minutes"]], "spec.triggers.drift.for"),
        c(
            "RetrainPolicy", "spec.triggers", ["accuracy": ["inferenceService": "churn", "threshold": 1.5]], "spec.triggers.accuracy.threshold",
            .swiftAndRule("spec.triggers.accuracy")),
        c("RetrainPolicy", "spec.output.artifactURITemplate", "s3://models/churn/model.onnx", nil),
        c("RetrainPolicy", "spec.output.artifactURITemplate", "models/{version}.onnx", nil, .swiftOnly),
        c("RetrainPolicy", "spec.output.artifactURITemplate", "s3://models/{user}/{version}.onnx", nil, .swiftOnly),
        c("RetrainPolicy", "spec.jobTemplate.spec", ["template": ["spec": ["restartPolicy": "Never"]]], "spec.jobTemplate.spec.template.spec.containers"),
        c("RetrainPolicy", "spec.jobTemplate.spec", ["template": ["spec": ["containers": []]]], "spec.jobTemplate.spec.template.spec.containers"),
        c(
            "RetrainPolicy", "spec.jobTemplate.spec", ["template": ["spec": ["containers": [["name": "t"]]]]],
            "spec.jobTemplate.spec.template.spec.containers[0].image"),
        c("RetrainPolicy", "spec.newVersionStage", "Production", nil),
        c("RetrainPolicy", "spec.concurrencyPolicy", "Allow", nil, .schemaOnly),
        c("RetrainPolicy", "spec.cooldown", "1d", nil),
        c("RetrainPolicy", "spec.successfulJobsHistoryLimit", -1, nil),
    ]

    @Test("each bad input is reported at its field", arguments: cases)
    func badInput(testCase: Case) throws {
        var json = try Self.valid(testCase.kind)
        json = Self.setting(json, testCase.change, to: testCase.value)
        if testCase.change == ["spec", "pinnedVersion"], testCase.field == "spec" {
            json = Self.setting(json, ["spec", "trackStage"], to: "Production")
        }
        let schemaErrors = Self.schemaErrors(json, kind: testCase.kind)
        let swiftErrors = Self.swiftErrors(json, kind: testCase.kind)
        let inSchema = schemaErrors.contains { $0.field.description == testCase.field }
        let inSwift = swiftErrors.map { $0.contains { $0.field.description == testCase.field } }
        switch testCase.layer {
        case .both:
            #expect(inSchema, "schema did not flag \(testCase.field): \(schemaErrors.summary)")
            #expect(inSwift == true, "Swift did not flag \(testCase.field): \(swiftErrors?.summary ?? "decode failed")")
        case .schemaOnly:
            #expect(inSchema, "schema did not flag \(testCase.field): \(schemaErrors.summary)")
            #expect(inSwift != false, "the Swift type accepted a value only the schema rejects")
        case .swiftOnly:
            #expect(inSwift == true, "Swift did not flag \(testCase.field): \(swiftErrors?.summary ?? "decode failed")")
        case .swiftAndRule(let rulePath):
            #expect(inSwift == true, "Swift did not flag \(testCase.field): \(swiftErrors?.summary ?? "decode failed")")
            #expect(schemaErrors.contains { $0.field.description == rulePath }, "no CEL rule flagged \(rulePath): \(schemaErrors.summary)")
        }
    }

    @Test("the valid starting points are valid in both layers")
    func baselines() throws {
        for kind in ["Model", "ModelVersion", "InferenceService", "RetrainPolicy"] {
            let json = try Self.valid(kind)
            #expect(Self.schemaErrors(json, kind: kind).isEmpty)
            #expect(Self.swiftErrors(json, kind: kind) == [])
        }
    }

    @Test("decoding a document reports every schema error and unknown fields, with the object named")
    func decodeErrors() throws {
        var json = try JSONValue(encoding: ModelVersion.minimal())
        json = Self.setting(json, ["spec", "version"], to: 0)
        json = Self.setting(json, ["spec", "stage"], to: "Prod")
        json = Self.setting(json, ["spec", "artifactt"], to: "typo")
        #expect {
            _ = try SextantObject(json: json)
        } throws: { error in
            let text = "\(error)"
            return text.contains("ModelVersion \"churn-v1\" is invalid")
                && text.contains("spec.version: Invalid value: 0: should be greater than or equal to 1")
                && text.contains("spec.stage: Unsupported value: \"Prod\"")
                && text.contains("spec.artifactt: Forbidden: unknown field")
        }
        #expect(throws: SextantObject.DecodeError.unknownKind(apiVersion: "ml.sextant.dev/v1alpha1", kind: "Pipeline")) {
            try SextantObject(json: ["apiVersion": "ml.sextant.dev/v1alpha1", "kind": "Pipeline"])
        }
        #expect(throws: SextantObject.DecodeError.unknownKind(apiVersion: "serving.kserve.io/v1beta1", kind: "InferenceService")) {
            try SextantObject(json: ["apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService"])
        }
    }

    @Test("the identity and artifact of a ModelVersion are immutable")
    func immutability() {
        let old = ModelVersion.minimal()
        var changed = old
        changed.spec.artifact.uri = "s3://models/churn/other.onnx"
        changed.spec.version = 2
        changed.spec.stage = .production
        let fields = changed.validateUpdate(from: old).map(\.field.description)
        #expect(fields == ["spec.version", "spec.artifact"])
        var promoted = old
        promoted.spec.stage = .production
        promoted.spec.metrics = ["accuracy": 0.9]
        #expect(promoted.validateUpdate(from: old).isEmpty)
        let spec = ModelVersion.openAPISchema.properties!["spec"]!.properties!
        for field in ["modelName", "version", "artifact"] {
            #expect(spec[field]?.validations?.contains { $0.rule == "self == oldSelf" } == true, "\(field) has no immutability rule")
        }
        let ruleErrors = SextantObject.schemaErrors(try! JSONValue(encoding: changed), as: ModelVersion.self, old: try! JSONValue(encoding: old))
        #expect(Set(ruleErrors.map(\.field.description)) == ["spec.version", "spec.artifact"])
        #expect(SextantObject.schemaErrors(try! JSONValue(encoding: promoted), as: ModelVersion.self, old: try! JSONValue(encoding: old)).isEmpty)
    }

    // MARK: - Helpers

    static func valid(_ kind: String) throws -> JSONValue {
        switch kind {
        case "Model": try JSONValue(encoding: Model.minimal())
        case "ModelVersion": try JSONValue(encoding: ModelVersion.minimal())
        case "InferenceService": try JSONValue(encoding: InferenceService.minimal())
        default: try JSONValue(encoding: RetrainPolicy.minimal())
        }
    }

    static func schemaErrors(_ json: JSONValue, kind: String) -> [FieldError] {
        switch kind {
        case "Model": SextantObject.schemaErrors(json, as: Model.self)
        case "ModelVersion": SextantObject.schemaErrors(json, as: ModelVersion.self)
        case "InferenceService": SextantObject.schemaErrors(json, as: InferenceService.self)
        default: SextantObject.schemaErrors(json, as: RetrainPolicy.self)
        }
    }

    /// Swift validation of the decoded object; `nil` when the Swift type cannot even hold the value.
    static func swiftErrors(_ json: JSONValue, kind: String) -> [FieldError]? {
        switch kind {
        case "Model": (try? json.decode(as: Model.self))?.validate()
        case "ModelVersion": (try? json.decode(as: ModelVersion.self))?.validate()
        case "InferenceService": (try? json.decode(as: InferenceService.self))?.validate()
        default: (try? json.decode(as: RetrainPolicy.self))?.validate()
        }
    }

    static func setting(_ json: JSONValue, _ path: [String], to value: JSONValue) -> JSONValue {
        guard let first = path.first else { return value }
        var copy = json
        copy[first] = setting(json[first] ?? [:], Array(path.dropFirst()), to: value)
        return copy
    }
}
