import ArgumentParser
import Foundation
import SextantAPI

/// Writes the CRD YAML of every Sextant kind, generated from the Swift types.
@main
struct CRDGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sextant-crdgen",
        abstract: "Write the ml.sextant.dev CustomResourceDefinitions generated from the Swift API types.")

    @Option(name: .shortAndLong, help: "Directory to write one YAML file per CRD into.")
    var output: String?

    @Flag(help: "Exit non-zero if the files in --output differ from the generated ones; write nothing.")
    var check = false

    func run() throws {
        let files = try SextantCRDs.files()
        guard let output else {
            print(files.map(\.contents).joined(separator: "---\n"), terminator: "")
            return
        }
        let directory = URL(fileURLWithPath: output, isDirectory: true)
        if check {
            let stale = files.filter { file in
                (try? String(contentsOf: directory.appendingPathComponent(file.name), encoding: .utf8)) != file.contents
            }
            guard stale.isEmpty else {
                throw ValidationError("out of date: \(stale.map(\.name).joined(separator: ", ")); run hack/generate-crds.sh")
            }
            return
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in files {
            try file.contents.write(to: directory.appendingPathComponent(file.name), atomically: true, encoding: .utf8)
        }
        print("wrote \(files.count) CRDs to \(output)")
    }
}
