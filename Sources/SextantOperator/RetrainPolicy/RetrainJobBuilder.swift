import Foundation
import KubeClient
import KubeCore
import KubeRuntime
import SextantAPI

/// Builds the training Job of one run from the policy's template. Every container gets the
/// run's description in its environment:
///
/// | Variable | Value |
/// |---|---|
/// | `SEXTANT_MODEL` | the model name |
/// | `SEXTANT_VERSION` | the version number the run will register |
/// | `SEXTANT_OUTPUT_URI` | `output.artifactURITemplate` with its placeholders filled |
/// | `SEXTANT_DATASET` | the newest version's dataset URI, when known |
/// | `SEXTANT_NAMESPACE` | the namespace |
/// | `SEXTANT_RUN` | the Job's name |
/// | `SEXTANT_TRIGGER` | Schedule, Drift, Accuracy or OnDemand |
public enum RetrainJobBuilder {
    public static func job(for policy: RetrainPolicy, version: Int64, trigger: TriggerType, dataset: String?, now: KubeTime) -> Job {
        let policyName = policy.metadata.name ?? ""
        let namespace = policy.metadata.namespace ?? "default"
        let run = "\(policyName)-v\(version)-\(String(Int64(now.date.timeIntervalSince1970), radix: 36))"
        let output = policy.spec.output.artifactURITemplate
            .replacingOccurrences(of: "{model}", with: policy.spec.modelName)
            .replacingOccurrences(of: "{version}", with: String(version))
            .replacingOccurrences(of: "{namespace}", with: namespace)
            .replacingOccurrences(of: "{run}", with: run)
        var environment: [JSONValue] = [
            ["name": "SEXTANT_MODEL", "value": .string(policy.spec.modelName)],
            ["name": "SEXTANT_VERSION", "value": .string(String(version))],
            ["name": "SEXTANT_OUTPUT_URI", "value": .string(output)],
            ["name": "SEXTANT_NAMESPACE", "value": .string(namespace)],
            ["name": "SEXTANT_RUN", "value": .string(run)],
            ["name": "SEXTANT_TRIGGER", "value": .string(trigger.rawValue)],
        ]
        if let dataset { environment.append(["name": "SEXTANT_DATASET", "value": .string(dataset)]) }

        var spec = policy.spec.jobTemplate.spec
        var podSpec = spec.value(at: ["template", "spec"]) ?? [:]
        let containers = (podSpec["containers"]?.arrayValue ?? []).map { container -> JSONValue in
            var container = container
            let existing = container["env"]?.arrayValue ?? []
            let names = Set(existing.compactMap { $0["name"]?.stringValue })
            container["env"] = .array(existing + environment.filter { !names.contains($0["name"]?.stringValue ?? "") })
            return container
        }
        podSpec["containers"] = .array(containers)
        var template = spec["template"] ?? [:]
        var templateMetadata = template["metadata"] ?? [:]
        var podLabels = templateMetadata["labels"]?.objectValue ?? [:]
        podLabels[OperatorLabels.retrainPolicy] = .string(policyName)
        templateMetadata["labels"] = .object(podLabels)
        template["metadata"] = templateMetadata
        template["spec"] = podSpec
        spec["template"] = template

        var labels = policy.spec.jobTemplate.metadata?.labels ?? [:]
        labels[OperatorLabels.managedBy] = OperatorLabels.managedByValue
        labels[OperatorLabels.retrainPolicy] = policyName
        labels[OperatorLabels.model] = policy.spec.modelName
        var annotations = policy.spec.jobTemplate.metadata?.annotations ?? [:]
        annotations[OperatorLabels.versionAnnotation] = String(version)
        annotations[OperatorLabels.triggerAnnotation] = trigger.rawValue
        var metadata = ObjectMeta(name: run, namespace: namespace, labels: labels, annotations: annotations)
        metadata.ownerReferences = [Ownership.controllerReference(to: policy)]
        return KubeClient.Job(metadata: metadata, spec: spec)
    }
}
