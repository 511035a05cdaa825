import Foundation
import Testing

/// Bad flags of the shipped executables end with a non-zero exit and one line saying what to fix.
@Suite("Command-line errors")
struct CommandLineTests {
    @Test(
        "bad flags are refused before anything starts",
        arguments: [
            ("sextant-operator", ["run", "--namespace", "Team_A"], "namespace 'Team_A' is not a valid namespace name"),
            ("sextant-operator", ["run", "--concurrency", "0"], "--concurrency must be at least 1"),
            ("sextant-server", ["serve", "--model-uri", "file:///m.onnx", "--model-name", "m", "--idle-timeout", "0"], "--idle-timeout must be positive"),
            (
                "sextant-server", ["serve", "--model-uri", "file:///m.onnx", "--model-name", "m", "--request-timeout=-1"],
                "--request-timeout must be positive"
            ),
        ])
    func refused(_ executable: String, _ arguments: [String], _ message: String) async throws {
        let result = try await runProcess([try Executables.path(executable)] + arguments, directory: try scratchDirectory(), timeout: 30)
        #expect(result.status != 0, "\(executable) \(arguments) was accepted")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
