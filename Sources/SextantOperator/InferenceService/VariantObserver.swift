import KubeClient
import KubeCore
import SextantAPI

/// Reads how each version of an InferenceService is doing from its Deployment and pods.
enum VariantObserver {
    /// Restarts after which a container counts as crash-looping even between back-offs.
    static let crashLoopRestarts: Int64 = 3

    static func health(deployments: [Deployment], pods: [Pod]) -> [Int64: VariantHealth] {
        var result: [Int64: VariantHealth] = [:]
        for deployment in deployments {
            guard deployment.metadata.labels?[OperatorLabels.appName] == "sextant-server",
                let version = deployment.metadata.labels?[OperatorLabels.version].flatMap({ Int64($0) })
            else { continue }
            let desired = Int32(deployment.spec?["replicas"]?.integerValue ?? 1)
            let ready = Int32(deployment.status?["readyReplicas"]?.integerValue ?? 0)
            var health = VariantHealth(desiredReplicas: desired, readyReplicas: ready)
            for pod in pods where pod.metadata.labels?[OperatorLabels.version] == String(version) && pod.metadata.deletionTimestamp == nil {
                for container in pod.status?["containerStatuses"]?.arrayValue ?? [] {
                    let restarts = container["restartCount"]?.integerValue ?? 0
                    let waiting = container["state"]?["waiting"]
                    let waitingReason = waiting?["reason"]?.stringValue
                    let lastExit = container["lastState"]?["terminated"]?["exitCode"]?.integerValue
                    if waitingReason == "CrashLoopBackOff" || restarts >= crashLoopRestarts {
                        health.crashLoop =
                            "pod \(pod.metadata.name ?? "") is crash-looping (\(restarts) restarts"
                            + (lastExit.map { ", last exit code \($0)" } ?? "") + ")"
                    } else if let waitingReason, waitingReason != "ContainerCreating" {
                        health.notReadyReason = "\(waitingReason)" + (waiting?["message"]?.stringValue.map { ": \($0)" } ?? "")
                    }
                }
                if health.notReadyReason == nil, pod.status?["phase"]?.stringValue == "Running",
                    let condition = pod.status?["conditions"]?.arrayValue?.first(where: { $0["type"]?.stringValue == "Ready" }),
                    condition["status"]?.stringValue == "False"
                {
                    health.notReadyReason = "readiness probe failing" + (condition["message"]?.stringValue.map { ": \($0)" } ?? "")
                }
            }
            result[version] = health
        }
        return result
    }
}
