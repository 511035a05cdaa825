import ArgumentParser
import Foundation
import KubeClient
import KubeCore
import SextantAPI
import SextantCLI

/// `kubectl sextant …`: the day-to-day commands on Sextant objects. kubectl runs any executable
/// named `kubectl-sextant` on PATH as its `sextant` plugin.
@main
struct KubectlSextant: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubectl sextant",
        abstract: "Inspect and drive Sextant models, versions, rollouts and evaluations.",
        subcommands: [Status.self, Promote.self, Approve.self, Abort.self, Rollback.self, History.self, Evaluate.self])
}

extension CLIContext.Output: ExpressibleByArgument {}

/// Flags every command shares, named as kubectl names them.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Path to the kubeconfig file.") var kubeconfig: String?
    @Option(help: "The kubeconfig context to use.") var context: String?
    @Option(name: [.short, .long], help: "The namespace (default: the context's).") var namespace: String?
    @Option(name: [.short, .long], help: "Output format: text, json or yaml.") var output: CLIContext.Output = .text

    func connect() throws -> CLIContext {
        do {
            return try CLIContext(kubeconfig: kubeconfig, context: context, namespace: namespace, output: output)
        } catch {
            throw CLIError("cannot connect to the cluster: \(error)")
        }
    }
}

/// Runs a command body and turns its errors into one line (`Error: …`, no usage text — the
/// command line was fine) and a non-zero exit.
func runCommand(_ options: ClusterOptions, _ body: (CLIContext) async throws -> Void) async throws {
    let context = try options.connect()
    do {
        try await body(context)
        await context.shutdown()
    } catch let error as KubernetesError {
        await context.shutdown()
        throw CLIError(error.description)
    } catch {
        await context.shutdown()
        throw CLIError("\(error)")
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Versions, weights, step and the last analysis verdicts of an InferenceService.")
    @Argument(help: "The InferenceService.") var inferenceService: String
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        try await runCommand(cluster) { context in
            let service = try await context.api(InferenceService.self).get(inferenceService)
            try context.emit(try JSONValue(encoding: service.status ?? InferenceServiceStatus())) { StatusReport.render(service) }
        }
    }
}

struct Promote: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Request a stage for a version (its gates and rollouts decide when it gets there).")
    @Argument(help: "The Model.") var model: String
    @Argument(help: "The version number.") var version: Int64
    @Option(help: "The stage to request: Staging or Production.") var to: String = "Production"
    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        guard ["Staging", "Production", "Development", "Archived"].contains(to) else {
            throw ValidationError("--to must be Staging, Production, Development or Archived (got \(to))")
        }
    }

    func run() async throws {
        try await runCommand(cluster) { context in
            let found = try await context.modelVersion(model: model, version: version)
            let name = found.metadata.name ?? ""
            let updated = try await context.api(ModelVersion.self).patch(name, .merge(["spec": ["stage": .string(to)]]))
            try context.emit(try JSONValue(encoding: updated.spec)) {
                "modelversion \(name): requested \(to) (now effectively \(updated.status?.stage?.rawValue ?? "unknown")); watch with kubectl get smv \(name) -w"
            }
        }
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record an approval on a version (for gates with requireApproval).")
    @Argument(help: "The Model.") var model: String
    @Argument(help: "The version number.") var version: Int64
    @Option(help: "Who approves (default: $USER).") var by: String?
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let approver = by ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        try await runCommand(cluster) { context in
            let found = try await context.modelVersion(model: model, version: version)
            let name = found.metadata.name ?? ""
            _ = try await context.api(ModelVersion.self).patch(
                name, .merge(["metadata": ["annotations": [.init(stringLiteral: ModelVersion.approvedByAnnotation): .string(approver)]]]))
            try context.emit(["modelVersion": .string(name), "approvedBy": .string(approver)]) { "modelversion \(name) approved by \(approver)" }
        }
    }
}

/// Sets the abort annotation: the running rollout is rolled back and no new one starts until it is removed.
func abortRollout(_ name: String, _ context: CLIContext) async throws {
    let updated = try await context.api(InferenceService.self).patch(
        name, .merge(["metadata": ["annotations": [.init(stringLiteral: InferenceService.abortAnnotation): "true"]]]))
    try context.emit(["inferenceService": .string(name), "abort": true]) {
        let canary = updated.status?.canary.map { "version \($0.version) will be rolled back" } ?? "no rollout is running; new rollouts are paused"
        return "inferenceservice \(name): \(canary); remove the annotation to resume: kubectl annotate sisvc \(name) \(InferenceService.abortAnnotation)-"
    }
}

struct Abort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Abort the running rollout and pause new ones.")
    @Argument(help: "The InferenceService.") var inferenceService: String
    @OptionGroup var cluster: ClusterOptions
    func run() async throws { try await runCommand(cluster) { try await abortRollout(inferenceService, $0) } }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Roll the running canary back (the same as abort).")
    @Argument(help: "The InferenceService.") var inferenceService: String
    @OptionGroup var cluster: ClusterOptions
    func run() async throws { try await runCommand(cluster) { try await abortRollout(inferenceService, $0) } }
}

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every stage every version of a model entered, oldest first.")
    @Argument(help: "The Model.") var model: String
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        try await runCommand(cluster) { context in
            let versions = try await context.api(ModelVersion.self).listAll().items.filter { $0.spec.modelName == model }
            guard !versions.isEmpty else { throw CLIError("model \(model) has no versions in namespace \(context.namespace)") }
            let entries = StageHistoryReport.entries(versions)
            let json: JSONValue = .array(
                try entries.map { entry in
                    var value = try JSONValue(encoding: entry.transition)
                    value["version"] = .integer(entry.version)
                    return value
                })
            try context.emit(json) { StageHistoryReport.render(entries) }
        }
    }
}

struct Evaluate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send labelled rows through an InferenceService, report accuracy (or MAE) and post the labels as feedback.")
    @Argument(help: "The InferenceService.") var inferenceService: String
    @Option(help: "CSV file with a header row.") var data: String
    @Option(help: "The column holding the true label.") var label: String
    @Option(help: "The model's input tensor name.") var input = "input"
    @Option(help: "Base URL of the service (default: its Service's cluster IP).") var url: String?
    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: data, encoding: .utf8) } catch { throw ValidationError("cannot read \(data): \(error.localizedDescription)") }
        let (rows, labels) = try Evaluation.readCSV(text, label: label)
        try await runCommand(cluster) { context in
            let service = try await context.api(InferenceService.self).get(inferenceService)
            let model = try await context.api(Model.self).get(service.spec.modelName)
            let base: String
            if let url { base = url } else { base = try await context.serviceURL(inferenceService) }
            let evaluation = Evaluation(model: service.spec.modelName, input: input, regression: model.spec.task == .regression)
            let report = await evaluation.run(rows: rows, labels: labels, serviceURL: base) { version in
                try? await context.serviceURL("\(inferenceService)-v\(version)")
            }
            let json: JSONValue = [
                "rows": .integer(Int64(report.rows)), "accuracy": report.accuracy.map(JSONValue.number) ?? .null,
                "meanAbsoluteError": report.meanAbsoluteError.map(JSONValue.number) ?? .null,
                "byVersion": .object(report.byVersion.mapValues { .integer(Int64($0)) }),
                "feedbackAccepted": .integer(Int64(report.feedbackAccepted)), "failures": .integer(Int64(report.failures)),
            ]
            try context.emit(json) {
                let quality =
                    report.accuracy.map { String(format: "accuracy %.4f", $0) } ?? report.meanAbsoluteError.map {
                        String(format: "mean absolute error %.4g", $0)
                    } ?? "no answers"
                let versions = report.byVersion.sorted { $0.key < $1.key }.map { "v\($0.key): \($0.value)" }.joined(separator: ", ")
                return "\(report.rows) rows, \(quality) (\(versions)); \(report.feedbackAccepted) labels accepted as feedback"
                    + (report.failures > 0 ? "; \(report.failures) requests failed" : "")
            }
            if report.failures == report.rows { throw CLIError("every request failed; is \(base) reachable?") }
        }
    }
}
