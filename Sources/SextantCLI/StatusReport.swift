import Foundation
import KubeCore
import SextantAPI

/// `kubectl sextant status <inferenceservice>`: versions, weights, step, the last analysis
/// verdicts and the last rollout, in one screen.
public enum StatusReport {
    public static func render(_ service: InferenceService) -> String {
        let status = service.status ?? InferenceServiceStatus()
        let spec = service.spec
        var lines: [String] = []
        let tracking = spec.pinnedVersion.map { "pinned to version \($0)" } ?? "tracking \((spec.trackStage ?? .production).rawValue)"
        lines.append("InferenceService \(service.metadata.namespace ?? "")/\(service.metadata.name ?? ""): model \(spec.modelName), \(tracking)")
        let ready = status.conditions?[type: "Ready"]
        lines.append(
            "Phase:    \(status.phase?.rawValue ?? "Unknown")   Ready: \(ready?.status.rawValue ?? "Unknown")"
                + (ready.map { " (\($0.reason): \($0.message))" } ?? ""))
        if let url = status.url { lines.append("URL:      \(url)") }
        lines.append("")
        lines.append(
            table(
                [["ROLE", "VERSION", "WEIGHT", "READY"]]
                    + [("stable", status.stable), ("canary", status.canary)].compactMap { role, variant in
                        variant.map { [role, "v\($0.version)", "\($0.weight)%", "\($0.readyReplicas ?? 0)/\($0.replicas ?? 0)"] }
                    }))
        if let rollout = status.rollout {
            let steps = spec.rollout?.steps ?? InferenceService.defaultSteps
            let step =
                rollout.currentStep.map { "step \($0 + 1) of \(steps.count) (\(steps.map { "\($0)%" }.joined(separator: " → ")))" }
                ?? "waiting for the canary to be ready"
            lines.append("")
            lines.append(
                "Rollout:  \(spec.rollout?.strategy?.rawValue ?? "Canary"), \(step), failures \(rollout.failures ?? 0)"
                    + (rollout.stepStartedAt.map { ", step started \($0)" } ?? ""))
            if let analysis = rollout.analysis, !analysis.isEmpty {
                lines.append("")
                lines.append(
                    table(
                        [["METRIC", "VALUE", "THRESHOLD", "RESULT", "WINDOW"]]
                            + analysis.map {
                                [$0.metric, $0.value.map { String(format: "%.4g", $0) } ?? "-", $0.threshold, $0.passed ? "pass" : "FAIL", $0.window ?? "-"]
                            }))
            }
        }
        if let experiment = status.experiment {
            lines.append("")
            lines.append("Experiment: \(experiment.phase.rawValue) (\(experiment.test))" + (experiment.winner.map { ", winner v\($0)" } ?? ""))
            lines.append(
                table(
                    [["VERSION", "WEIGHT", "SAMPLES", "VALUE"]]
                        + experiment.variants.map {
                            ["v\($0.version)", "\($0.weight)%", "\($0.samples)", $0.value.map { String(format: "%.4g", $0) } ?? "-"]
                        }))
            if let message = experiment.message { lines.append(message) }
        }
        if let last = status.lastRollout {
            lines.append("")
            lines.append(
                "Last rollout: version \(last.version) \(last.result.rawValue) at \(last.time) — \(last.reason)" + (last.message.map { ": \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    /// Left-aligned columns separated by three spaces, as kubectl prints them.
    public static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        let widths = (0..<width).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
                .joined(separator: "   ")
        }.joined(separator: "\n")
    }
}

/// `kubectl sextant history <model>`: every stage entered by every version, oldest first.
public enum StageHistoryReport {
    public struct Entry: Sendable, Equatable {
        public var version: Int64
        public var transition: StageTransition
    }

    public static func entries(_ versions: [ModelVersion]) -> [Entry] {
        versions.flatMap { version in (version.status?.stageHistory ?? []).map { Entry(version: version.spec.version, transition: $0) } }
            .sorted { ($0.transition.time, $0.version) < ($1.transition.time, $1.version) }
    }

    public static func render(_ entries: [Entry]) -> String {
        StatusReport.table(
            [["TIME", "VERSION", "STAGE", "REASON", "MESSAGE"]]
                + entries.map {
                    [$0.transition.time.description, "v\($0.version)", $0.transition.stage.rawValue, $0.transition.reason, $0.transition.message ?? ""]
                })
    }
}
