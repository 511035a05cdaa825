import Foundation
import KubeCore
import Testing

/// The GitHub Actions workflows: valid against the published workflow schema, and doing what
/// the release process promises.
@Suite("Workflows")
struct WorkflowTests {
    static func workflow(_ name: String) throws -> JSONValue {
        try YAML.document(from: Repository.text(".github/workflows/\(name)"))
    }

    static func steps(_ workflow: JSONValue) -> [JSONValue] {
        (workflow["jobs"]?.objectValue?.values.map { $0 } ?? []).flatMap { $0["steps"]?.arrayValue ?? [] }
    }

    static func runs(_ workflow: JSONValue) -> String { steps(workflow).compactMap { $0["run"]?.stringValue }.joined(separator: "\n") }

    static func uses(_ workflow: JSONValue) -> [String] { steps(workflow).compactMap { $0["uses"]?.stringValue } }

    @Test("both workflows validate against GitHub's workflow schema (check-jsonschema)")
    func schema() async throws {
        let result = try await runProcess(
            ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", ".github/workflows/ci.yml", ".github/workflows/release.yml"],
            directory: try scratchDirectory())
        #expect(result.status == 0, "\(result.output)")
    }

    @Test("ci: the CI entry point, the drift check of generated files, formatting")
    func ci() throws {
        let ci = try Self.workflow("ci.yml")
        #expect(ci["on"]?["pull_request"] != nil && ci["on"]?["push"] != nil)
        let runs = Self.runs(ci)
        #expect(runs.contains("bash .ci/run"))
        #expect(runs.contains("hack/generate.sh --check"))
        #expect(runs.contains("swift format lint --strict"))
        #expect(ci["permissions"]?["contents"] == "read")
    }

    @Test("release: on a version tag, multi-arch signed images, the chart as an OCI artifact, the install manifest on the release")
    func release() throws {
        let release = try Self.workflow("release.yml")
        #expect(release["on"]?["push"]?["tags"]?.strings == ["v*"])
        let images = try #require(release["jobs"]?["images"])
        #expect(images["permissions"]?["id-token"] == "write", "keyless signing needs the OIDC token")
        #expect(images["strategy"]?["matrix"]?["image"]?.strings == ["sextant-operator", "sextant-server"])
        let build = try #require(Self.steps(release).first { $0["uses"]?.stringValue?.hasPrefix("docker/build-push-action@") == true })
        #expect(build["with"]?["platforms"] == "linux/amd64,linux/arm64")
        #expect(build["with"]?["push"] == true)
        let uses = Self.uses(release)
        for action in [
            "actions/checkout@v4", "docker/setup-qemu-action@v3", "docker/setup-buildx-action@v3", "docker/login-action@v3", "sigstore/cosign-installer@v3",
            "azure/setup-helm@v4", "softprops/action-gh-release@v2",
        ] {
            #expect(uses.contains(action), "release.yml does not use \(action)")
        }
        let runs = Self.runs(release)
        #expect(runs.contains("cosign sign --yes"))
        #expect(runs.contains("helm package charts/sextant") && runs.contains("helm push") && runs.contains("oci://"))
        #expect(runs.contains("kubectl kustomize manifests/"))
        // Every Dockerfile the matrix names exists.
        for file in ["operator", "server"] {
            #expect(FileManager.default.fileExists(atPath: Repository.url("images/\(file).Dockerfile").path))
        }
    }
}

@Suite("Formatting")
struct FormattingTests {
    @Test("the sources are formatted as .swift-format says (swift format lint --strict, as ci.yml runs it)")
    func formatted() async throws {
        let result = try await runProcess(
            ["swift", "format", "lint", "--strict", "--configuration", ".swift-format", "--recursive", "Sources", "Tests", "Package.swift"],
            directory: try scratchDirectory(), timeout: 300)
        #expect(
            result.status == 0,
            "run `swift format format -i --configuration .swift-format --recursive Sources Tests Package.swift`:\n\(result.output.prefix(2000))")
    }
}
