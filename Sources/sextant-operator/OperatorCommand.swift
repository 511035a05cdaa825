import ArgumentParser

/// `sextant-operator`: runs the controllers against a cluster (`run`), or starts a whole local
/// installation (`local`).
@main
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-operator",
        abstract: "The Sextant operator: model registry, progressive delivery and retraining on Kubernetes.",
        subcommands: [Run.self],
        defaultSubcommand: Run.self)
}

struct Run: AsyncParsableCommand {
    func run() async throws {}
}
