import Foundation
import KubeCore

extension LocalRuntime {
    /// Runs a Job's pod (one at a time), retries failures up to `backoffLimit`, and writes the
    /// Job's status: active/succeeded/failed counts, Complete or Failed conditions with reasons.
    func reconcileJob(namespace: String, name: String) async {
        guard let stored = await store.get(BuiltinResources.jobs, namespace: namespace, name: name),
            stored.object["metadata"]?["deletionTimestamp"] == nil
        else { return }
        let job = stored.object
        let conditions = job["status"]?["conditions"]?.arrayValue ?? []
        if conditions.contains(where: { ($0["type"] == "Complete" || $0["type"] == "Failed") && $0["status"] == "True" }) { return }
        let uid = job["metadata"]?["uid"]?.stringValue ?? ""
        let pods = await ownedPods(namespace: namespace, uid: uid)
        let succeeded = pods.filter { $0["status"]?["phase"] == "Succeeded" }.count
        let failed = pods.filter { $0["status"]?["phase"] == "Failed" }.count
        let active = pods.filter { $0["status"]?["phase"] != "Succeeded" && $0["status"]?["phase"] != "Failed" && $0["metadata"]?["deletionTimestamp"] == nil }
        let completions = Int(job.value(at: ["spec", "completions"])?.integerValue ?? 1)
        let backoffLimit = Int(job.value(at: ["spec", "backoffLimit"])?.integerValue ?? 6)
        let now = KubeTime.now().description

        var outcome: (type: String, reason: String, message: String)?
        if succeeded >= completions {
            outcome = ("Complete", "Completed", "Job completed")
        } else if failed > backoffLimit {
            outcome = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
            for pod in active { await delete(BuiltinResources.pods, namespace: namespace, name: pod["metadata"]?["name"]?.stringValue ?? "") }
        } else if active.isEmpty {
            await createObject(BuiltinResources.pods, namespace: namespace, pod(for: job))
        }
        let activeCount = outcome == nil ? max(active.count, 1) : 0
        await updateObject(BuiltinResources.jobs, namespace: namespace, name: name) { object in
            var status = object["status"] ?? [:]
            if status["startTime"] == nil { status["startTime"] = .string(now) }
            status["active"] = activeCount > 0 ? .integer(Int64(activeCount)) : nil
            status["succeeded"] = succeeded > 0 ? .integer(Int64(succeeded)) : nil
            status["failed"] = failed > 0 ? .integer(Int64(failed)) : nil
            if let outcome {
                var list = status["conditions"]?.arrayValue ?? []
                if outcome.type == "Failed" {
                    list.append([
                        "type": "FailureTarget", "status": "True", "reason": .string(outcome.reason), "message": .string(outcome.message),
                        "lastTransitionTime": .string(now), "lastProbeTime": .string(now),
                    ])
                } else {
                    list.append([
                        "type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods",
                        "lastTransitionTime": .string(now), "lastProbeTime": .string(now),
                    ])
                    status["completionTime"] = .string(now)
                }
                list.append([
                    "type": .string(outcome.type), "status": "True", "reason": .string(outcome.reason), "message": .string(outcome.message),
                    "lastTransitionTime": .string(now), "lastProbeTime": .string(now),
                ])
                status["conditions"] = .array(list)
            }
            object["status"] = status
        }
    }

    private func pod(for job: JSONValue) -> JSONValue {
        let name = job["metadata"]?["name"]?.stringValue ?? "job"
        let uid = job["metadata"]?["uid"] ?? ""
        var labels = job.value(at: ["spec", "template", "metadata", "labels"])?.objectValue ?? [:]
        labels["job-name"] = .string(name)
        labels["batch.kubernetes.io/job-name"] = .string(name)
        labels["controller-uid"] = uid
        labels["batch.kubernetes.io/controller-uid"] = uid
        var spec = job.value(at: ["spec", "template", "spec"]) ?? [:]
        spec["nodeName"] = .string(LocalRuntime.nodeName)
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string("\(name)-\(Admission.randomSuffix())"), "labels": .object(labels), "ownerReferences": [LocalRuntime.ownerReference(job)],
            ],
            "spec": spec,
            "status": ["phase": "Pending"],
        ]
    }
}
