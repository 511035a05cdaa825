import Foundation
import KubeCore

extension LocalRuntime {
    /// Keeps a Deployment's (or ReplicaSet's) pods at `spec.replicas` for the current pod
    /// template, surging new pods before removing pods of an older template, and writes its status.
    func reconcileWorkload(_ key: ResourceKey, namespace: String, name: String) async {
        guard let type = server.registry.type(for: key),
            let stored = await store.get(type, namespace: namespace, name: name),
            stored.object["metadata"]?["deletionTimestamp"] == nil
        else { return }
        let workload = stored.object
        let uid = workload["metadata"]?["uid"]?.stringValue ?? ""
        let desired = Int(workload.value(at: ["spec", "replicas"])?.integerValue ?? 1)
        let template = workload.value(at: ["spec", "template"]) ?? [:]
        let hash = LocalRuntime.templateHash(template)
        let pods = await ownedPods(namespace: namespace, uid: uid).filter { $0["metadata"]?["deletionTimestamp"] == nil }
        let current = pods.filter { $0["metadata"]?["labels"]?["pod-template-hash"]?.stringValue == hash }
        let outdated = pods.filter { $0["metadata"]?["labels"]?["pod-template-hash"]?.stringValue != hash }
        let readyCurrent = current.filter(LocalRuntime.isReady)

        if current.count < desired {
            for _ in current.count..<desired {
                await createObject(BuiltinResources.pods, namespace: namespace, pod(for: workload, template: template, hash: hash))
            }
        } else if current.count > desired {
            for pod in current.suffix(current.count - desired) {
                await delete(BuiltinResources.pods, namespace: namespace, name: pod["metadata"]?["name"]?.stringValue ?? "")
            }
        }
        if readyCurrent.count >= desired || desired == 0 {
            for pod in outdated { await delete(BuiltinResources.pods, namespace: namespace, name: pod["metadata"]?["name"]?.stringValue ?? "") }
        }

        let remaining = await ownedPods(namespace: namespace, uid: uid).filter { $0["metadata"]?["deletionTimestamp"] == nil }
        let updated = remaining.filter { $0["metadata"]?["labels"]?["pod-template-hash"]?.stringValue == hash }
        let ready = remaining.filter(LocalRuntime.isReady).count
        let updatedReady = updated.filter(LocalRuntime.isReady).count
        let available = ready >= desired
        let complete = updatedReady >= desired && remaining.count == updated.count
        await updateObject(type, namespace: namespace, name: name) { object in
            var status = object["status"] ?? [:]
            status["observedGeneration"] = object["metadata"]?["generation"] ?? 1
            status["replicas"] = .integer(Int64(remaining.count))
            status["updatedReplicas"] = .integer(Int64(updated.count))
            status["readyReplicas"] = .integer(Int64(ready))
            status["availableReplicas"] = .integer(Int64(ready))
            status["unavailableReplicas"] = remaining.count > ready ? .integer(Int64(remaining.count - ready)) : nil
            status["conditions"] = .array([
                LocalRuntime.condition(
                    status, "Available", available, available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                    available ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
                LocalRuntime.condition(
                    status, "Progressing", true, complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                    complete ? "The pods of template \(hash) are available." : "Pods of template \(hash) are being rolled out."),
            ])
            object["status"] = status
        }
    }

    private func pod(for workload: JSONValue, template: JSONValue, hash: String) -> JSONValue {
        let name = workload["metadata"]?["name"]?.stringValue ?? "pod"
        var labels = template["metadata"]?["labels"]?.objectValue ?? [:]
        labels["pod-template-hash"] = .string(hash)
        var spec = template["spec"] ?? [:]
        spec["nodeName"] = .string(LocalRuntime.nodeName)
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string("\(name)-\(hash)-\(Admission.randomSuffix())"), "labels": .object(labels),
                "annotations": template["metadata"]?["annotations"] ?? [:],
                "ownerReferences": [LocalRuntime.ownerReference(workload)],
            ],
            "spec": spec,
            "status": [
                "phase": "Pending", "conditions": [["type": "PodScheduled", "status": "True", "lastTransitionTime": .string(KubeTime.now().description)]],
            ],
        ]
    }

    /// A short, stable hash of a pod template (`pod-template-hash`).
    static func templateHash(_ template: JSONValue) -> String {
        var value: UInt64 = 0xcbf29ce484222325
        for byte in template.jsonString().utf8 { value = (value ^ UInt64(byte)) &* 0x100000001b3 }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var text = ""
        for _ in 0..<10 {
            text.append(alphabet[Int(value % UInt64(alphabet.count))])
            value /= UInt64(alphabet.count)
        }
        return text
    }

    /// A condition in JSON, keeping `lastTransitionTime` when the status did not change.
    static func condition(_ status: JSONValue, _ type: String, _ value: Bool, _ reason: String, _ message: String) -> JSONValue {
        let text: JSONValue = value ? "True" : "False"
        let previous = status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
        let time = previous?["status"] == text ? previous?["lastTransitionTime"] ?? .string(KubeTime.now().description) : .string(KubeTime.now().description)
        return [
            "type": .string(type), "status": text, "reason": .string(reason), "message": .string(message), "lastTransitionTime": time, "lastUpdateTime": time,
        ]
    }
}
