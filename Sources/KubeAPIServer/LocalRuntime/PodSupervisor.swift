import Foundation
import KubeCore

/// Runs one pod's first container as a local process and keeps the Pod's status true to it:
/// Pending → Running (Ready once the readiness probe passes) → restarted with back-off
/// (`CrashLoopBackOff`) or finished (Succeeded/Failed with exit code and termination message),
/// following the pod's `restartPolicy`. Cancelling the task stops the process.
struct PodSupervisor: Sendable {
    let runtime: LocalRuntime
    let namespace: String
    let name: String
    let pod: JSONValue

    private var container: JSONValue { pod.value(at: ["spec", "containers"])?.arrayValue?.first ?? [:] }
    private var restartPolicy: String { pod.value(at: ["spec", "restartPolicy"])?.stringValue ?? "Always" }

    func run() async {
        defer { Task { await runtime.supervisorFinished(namespace, name) } }
        var restarts = 0
        var lastTermination: JSONValue?
        while !Task.isCancelled {
            let port = try? LocalProcess.freePort()
            let argv: [String]
            switch await runtime.commandLine(for: container, port: port) {
            case .failure(let refusal):
                await notRunnable(refusal.message)
                return
            case .success(let line):
                argv = line
            }
            let directory = runtime.configuration.directory.appendingPathComponent(namespace).appendingPathComponent(name)
            let process: LocalProcess
            do {
                process = try LocalProcess(arguments: argv, environment: environment(port: port), directory: directory)
            } catch {
                await notRunnable("\(argv[0]) could not start: \(error)")
                return
            }
            let started = KubeTime.now().description
            await runtime.record(port: port, for: namespace, name)
            await setStatus(
                phase: "Running", ready: false, state: ["running": ["startedAt": .string(started)]], restarts: restarts, lastState: lastTermination, port: port)
            let exit: LocalProcess.Exit? = await withTaskCancellationHandler {
                await superviseUntilExit(process, port: port, started: started, restarts: restarts, lastState: lastTermination)
            } onCancel: {
                process.signal(SIGTERM)
            }
            guard let exit, !Task.isCancelled else {
                await process.stop()
                await runtime.record(port: nil, for: namespace, name)
                return
            }
            await runtime.record(port: nil, for: namespace, name)
            let fallback = container["terminationMessagePolicy"]?.stringValue == "FallbackToLogsOnError" && exit.code != 0
            let terminated: JSONValue = [
                "exitCode": .integer(Int64(exit.code)), "reason": exit.code == 0 ? "Completed" : "Error",
                "message": .string(process.terminationMessage(fallbackToLogs: fallback)),
                "startedAt": .string(started), "finishedAt": .string(KubeTime.now().description),
            ]
            let restart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && exit.code != 0)
            guard restart else {
                await setStatus(
                    phase: exit.code == 0 ? "Succeeded" : "Failed", ready: false, state: ["terminated": terminated], restarts: restarts,
                    lastState: lastTermination, port: nil)
                return
            }
            restarts += 1
            lastTermination = ["terminated": terminated]
            let delay = min(runtime.configuration.restartDelay * (1 << min(restarts - 1, 10)), runtime.configuration.maxRestartDelay)
            await setStatus(
                phase: "Running", ready: false,
                state: [
                    "waiting": [
                        "reason": "CrashLoopBackOff",
                        "message": .string("back-off \(delay) restarting failed container \(container["name"]?.stringValue ?? "") in pod \(name)"),
                    ]
                ],
                restarts: restarts, lastState: lastTermination, port: nil)
            try? await Task.sleep(for: delay)
        }
    }

    /// Probes readiness until the process exits; returns the exit, or nil when cancelled.
    private func superviseUntilExit(_ process: LocalProcess, port: Int?, started: String, restarts: Int, lastState: JSONValue?) async -> LocalProcess.Exit? {
        await withTaskGroup(of: LocalProcess.Exit?.self) { group in
            group.addTask { await process.waitForExit() }
            group.addTask {
                let probe = container["readinessProbe"]?["httpGet"]
                if let probe, let port {
                    let path = probe["path"]?.stringValue ?? "/"
                    while !Task.isCancelled {
                        if await HTTPProbe.succeeds(port: port, path: path) { break }
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                guard !Task.isCancelled else { return nil }
                await setStatus(
                    phase: "Running", ready: true, state: ["running": ["startedAt": .string(started)]], restarts: restarts, lastState: lastState, port: port)
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                return nil
            }
            for await result in group {
                if let exit = result {
                    group.cancelAll()
                    return exit
                }
                if Task.isCancelled { break }
            }
            group.cancelAll()
            return nil
        }
    }

    private func environment(port: Int?) -> [String: String] {
        var environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": ProcessInfo.processInfo.environment["HOME"] ?? "/tmp",
        ]
        environment.merge(runtime.configuration.podEnvironment) { _, cluster in cluster }
        for variable in container["env"]?.arrayValue ?? [] {
            if let key = variable["name"]?.stringValue, let value = variable["value"]?.stringValue { environment[key] = value }
        }
        environment["POD_NAME"] = name
        environment["POD_NAMESPACE"] = namespace
        if let port { environment["PORT"] = String(port) }
        return environment
    }

    private func notRunnable(_ message: String) async {
        await setStatus(
            phase: "Pending", ready: false, state: ["waiting": ["reason": "ImageNotRunnable", "message": .string(message)]], restarts: 0, lastState: nil,
            port: nil)
    }

    private func setStatus(phase: String, ready: Bool, state: JSONValue, restarts: Int, lastState: JSONValue?, port: Int?) async {
        let containerName = container["name"] ?? "main"
        let image = container["image"] ?? ""
        await runtime.updateObject(BuiltinResources.pods, namespace: namespace, name: name) { pod in
            var status = pod["status"] ?? [:]
            status["phase"] = .string(phase)
            status["hostIP"] = "127.0.0.1"
            status["podIP"] = port == nil && phase != "Running" ? status["podIP"] : "127.0.0.1"
            if status["startTime"] == nil { status["startTime"] = .string(KubeTime.now().description) }
            var containerStatus: JSONValue = [
                "name": containerName, "image": image, "imageID": "", "ready": .bool(ready), "started": .bool(state["running"] != nil),
                "restartCount": .integer(Int64(restarts)), "state": state,
            ]
            if let lastState { containerStatus["lastState"] = lastState }
            status["containerStatuses"] = [containerStatus]
            let finished = phase == "Succeeded" || phase == "Failed"
            status["conditions"] = [
                LocalRuntime.podCondition(status, "PodScheduled", true),
                LocalRuntime.podCondition(status, "Initialized", true),
                LocalRuntime.podCondition(status, "ContainersReady", ready),
                LocalRuntime.podCondition(status, "Ready", ready, reason: ready ? nil : (finished ? "PodCompleted" : "ContainersNotReady")),
            ]
            if case .string(let waiting)? = state["waiting"]?["reason"], waiting == "ImageNotRunnable" {
                status["reason"] = "ImageNotRunnable"
                status["message"] = state["waiting"]?["message"]
            } else {
                status["reason"] = nil
                status["message"] = nil
            }
            pod["status"] = status
            if let port {
                let annotations = JSONValue.setting(pod["metadata"]?["annotations"] ?? [:], [LocalRuntime.endpointAnnotation], to: .string("127.0.0.1:\(port)"))
                pod["metadata"]?["annotations"] = annotations
            }
        }
    }
}

extension LocalRuntime {
    static func podCondition(_ status: JSONValue, _ type: String, _ value: Bool, reason: String? = nil) -> JSONValue {
        let text: JSONValue = value ? "True" : "False"
        let previous = status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
        let time = previous?["status"] == text ? previous?["lastTransitionTime"] ?? .string(KubeTime.now().description) : .string(KubeTime.now().description)
        var condition: JSONValue = ["type": .string(type), "status": text, "lastTransitionTime": time]
        if let reason { condition["reason"] = .string(reason) }
        return condition
    }
}
