import Foundation
import Testing

@testable import SextantModelRuntime

/// Every model of the fixture zoo, run on its recorded inputs and compared with onnxruntime's outputs.
@Suite("ONNX fixture zoo")
struct FixtureTests {
    @Test("the fixture directory holds the zoo")
    func fixturesAreThere() {
        #expect(Fixtures.zoo.names.count >= 21, "fixtures in \(Fixtures.zoo.directory.path): \(Fixtures.zoo.names)")
    }

    @Test("matches onnxruntime", arguments: Fixtures.zoo.names)
    func matchesOnnxRuntime(name: String) throws {
        let problems = try Fixtures.zoo.mismatches(name)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "; "))")
    }

    @Test("an empty batch gives empty outputs", arguments: Fixtures.zoo.names)
    func emptyBatch(name: String) throws {
        let model = try Fixtures.zoo.model(name)
        let input = try #require(model.inputs.first)
        let width = try #require(input.shape?.last)
        let results = try model.run(inputs: [input.name: try Tensor(shape: [0, width], floats: [])])
        for output in model.outputs {
            switch results[output.name] {
            case .tensor(let tensor)?: #expect(tensor.count == 0, "\(name).\(output.name): \(tensor.shape)")
            case .mapSequence(let maps)?: #expect(maps.count == 0)
            case nil: Issue.record("\(name): missing \(output.name)")
            }
        }
    }

    @Test("signatures describe the graph", arguments: Fixtures.zoo.names)
    func signatures(name: String) throws {
        let model = try Fixtures.zoo.model(name)
        let expected = try Fixtures.zoo.expected(name)
        let outputNames = try #require(expected["outputNames"] as? [String])
        #expect(model.outputs.map(\.name) == outputNames)
        let input = try #require(model.inputs.first)
        #expect(input.name == "input")
        #expect(input.kind == .tensor(.float))
        #expect(input.shape?.first == -1)
    }
}

/// Synthetic models exercising operator options the zoo does not use (tree modes, binary-case
/// variants, multi-target regressors, transforms, dense and shape graphs), against onnxruntime.
@Suite("onnxruntime parity models")
struct ParityTests {
    @Test("the parity directory holds the models")
    func modelsAreThere() {
        #expect(Fixtures.parity.names.count >= 20, "models in \(Fixtures.parity.directory.path)")
    }

    @Test("matches onnxruntime", arguments: Fixtures.parity.names)
    func matchesOnnxRuntime(name: String) throws {
        let problems = try Fixtures.parity.mismatches(name)
        #expect(problems.isEmpty, "\(name): \(problems.prefix(8).joined(separator: "; "))")
    }
}
