import ArgumentParser
import Foundation
import SextantAPI

/// Writes the CRD YAML of every Sextant kind, and the API reference, generated from the Swift types;
/// with `--chart`, also the chart's CRDs and RBAC rules (from `OperatorPermissions.rules`).
@main
struct CRDGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-crdgen",
        abstract: "Generate the ml.sextant.dev CRDs and API reference from the Swift API types.",
        discussion: "Without options, prints all CRDs as one YAML stream. hack/generate.sh writes everything.")

    @Option(name: .shortAndLong, help: "Directory to write one CRD YAML file per kind into.")
    var output: String?

    @Option(help: "Markdown file to write the full field reference to (docs/reference.md).")
    var reference: String?

    @Option(help: "README to update between the generated-summary markers.")
    var readme: String?

    @Option(help: "Helm chart directory to write crds/ and templates/_rules.tpl (RBAC from OperatorPermissions) into.")
    var chart: String?

    @Flag(help: "Exit non-zero if any target differs from what would be generated; write nothing.")
    var check = false

    func run() throws {
        var targets: [(path: String, contents: String)] = []
        if let output {
            targets += try SextantCRDs.files().map { ("\(output)/\($0.name)", $0.contents) }
        }
        if let reference {
            targets.append((reference, ReferenceDocs.fullReference()))
        }
        if let readme {
            let current = try String(contentsOfFile: readme, encoding: .utf8)
            guard let updated = ReferenceDocs.updatingReadme(current) else {
                throw ValidationError("\(readme) has no generated-summary markers; add \(ReferenceDocs.beginMarker) and \(ReferenceDocs.endMarker)")
            }
            targets.append((readme, updated))
        }
        if let chart {
            targets += try ChartFiles.files().map { ("\(chart)/\($0.path)", $0.contents) }
        }
        if targets.isEmpty {
            print(try SextantCRDs.files().map(\.contents).joined(separator: "---\n"), terminator: "")
            return
        }
        if check {
            let stale = targets.filter { (try? String(contentsOfFile: $0.path, encoding: .utf8)) != $0.contents }.map(\.path)
            guard stale.isEmpty else { throw ValidationError("out of date: \(stale.joined(separator: ", ")); run hack/generate.sh") }
            return
        }
        if let output { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        if let chart { try FileManager.default.createDirectory(atPath: "\(chart)/crds", withIntermediateDirectories: true) }
        for target in targets {
            try target.contents.write(toFile: target.path, atomically: true, encoding: .utf8)
        }
        print("wrote \(targets.count) files")
    }
}
