import ArgumentParser
import Foundation
import Logging
import SextantServer

/// `sextant-operator`: runs the controllers against a cluster (`run`, the default), or starts a
/// whole installation on this machine (`local`).
@main
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-operator",
        abstract: "The Sextant operator: model registry, progressive delivery and retraining on Kubernetes.",
        subcommands: [RunCommand.self, LocalCommand.self],
        defaultSubcommand: RunCommand.self)
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case json, text
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = ProcessInfo.processInfo.environment["SEXTANT_LOG_LEVEL"] ?? "info"
    @Option(help: "Log format: json or text.")
    var logFormat: LogFormat = LogFormat(rawValue: ProcessInfo.processInfo.environment["SEXTANT_LOG_FORMAT"] ?? "") ?? .text

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical (got '\(logLevel)')")
        }
    }

    func bootstrap() {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
