import Foundation
import Testing

@testable import SextantModelRuntime

@Suite("Loading and request validation")
struct LoaderTests {
    @Test("an unsupported ai.onnx operator fails at load, naming it")
    func unsupportedOperator() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 3])
        builder.node("Conv", inputs: ["x"], outputs: ["y"], name: "conv1")
        builder.output("y")
        #expect(throws: ModelRuntimeError.unsupportedOperator(domain: "ai.onnx", opType: "Conv", node: "conv1")) {
            _ = try builder.build()
        }
        do {
            _ = try builder.build()
        } catch {
            #expect("\(error)".contains("Conv"))
        }
    }

    @Test("an unsupported ai.onnx.ml operator fails at load with its domain")
    func unsupportedMLOperator() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 3])
        builder.node("SVMClassifier", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["label", "scores"], name: "svm")
        builder.output("label", .int64)
        do {
            _ = try builder.build()
            Issue.record("expected a load failure")
        } catch let error as ModelRuntimeError {
            #expect(error == .unsupportedOperator(domain: "ai.onnx.ml", opType: "SVMClassifier", node: "svm"))
            #expect(error.description == "unsupported operator ai.onnx.ml.SVMClassifier (node 'svm')")
        }
    }

    @Test("an unsupported attribute value fails at load")
    func unsupportedAttributeValue() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 3])
        builder.node("Normalizer", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"], attributes: [Attr.string("norm", "L3")])
        builder.output("y")
        #expect(throws: ModelRuntimeError.self) { _ = try builder.build() }
        do { _ = try builder.build() } catch { #expect("\(error)".contains("norm") && "\(error)".contains("L3")) }
    }

    @Test("an attribute the kernel does not implement fails at load")
    func unknownAttribute() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 3])
        builder.node("Relu", inputs: ["x"], outputs: ["y"], attributes: [Attr.int("fancy", 1)])
        builder.output("y")
        do {
            _ = try builder.build()
            Issue.record("expected a load failure")
        } catch let error as ModelRuntimeError {
            guard case .unsupportedAttribute(_, "fancy", _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    @Test("unsupported opset versions and unimported domains fail at load")
    func opsets() throws {
        var tooNew = GraphBuilder(opsets: ["": 99])
        tooNew.input("x", .float, [-1])
        tooNew.node("Relu", inputs: ["x"], outputs: ["y"])
        tooNew.output("y")
        #expect(throws: ModelRuntimeError.unsupportedOpset(domain: "", version: 99)) { _ = try tooNew.build() }

        var missingDomain = GraphBuilder(opsets: ["": 17])
        missingDomain.input("x", .float, [-1, 2])
        missingDomain.node("Binarizer", domain: "ai.onnx.ml", inputs: ["x"], outputs: ["y"])
        missingDomain.output("y")
        #expect(throws: ModelRuntimeError.self) { _ = try missingDomain.build() }
    }

    @Test("malformed graphs fail at load")
    func malformedGraphs() throws {
        var dangling = GraphBuilder()
        dangling.input("x", .float, [-1])
        dangling.node("Add", inputs: ["x", "nowhere"], outputs: ["y"])
        dangling.output("y")
        #expect(throws: ModelRuntimeError.self) { _ = try dangling.build() }

        var cycle = GraphBuilder()
        cycle.input("x", .float, [-1])
        cycle.node("Add", inputs: ["x", "b"], outputs: ["a"])
        cycle.node("Relu", inputs: ["a"], outputs: ["b"])
        cycle.output("b")
        #expect(throws: ModelRuntimeError.self) { _ = try cycle.build() }

        #expect(throws: ModelRuntimeError.self) { _ = try ONNXModel(data: Data([0xFF, 0xFF, 0xFF])) }
    }

    @Test("nodes listed out of order are evaluated in topological order")
    func topologicalOrder() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 2])
        builder.node("Relu", inputs: ["a"], outputs: ["y"])
        builder.node("Sub", inputs: ["x", "x"], outputs: ["zero"])
        builder.node("Add", inputs: ["x", "zero"], outputs: ["a"])
        builder.output("y")
        let model = try builder.build()
        let y = try model.run(inputs: ["x": try Tensor(shape: [1, 2], floats: [-1, 2])])
        #expect(y["y"]?.tensor?.floats == [0, 2])
    }

    @Test("wrong input name, element type or shape gives a clear error")
    func requestValidation() throws {
        let model = try Fixtures.zoo.model("logistic_regression")
        let good = try Tensor(shape: [2, 8], floats: Array(repeating: 0.5, count: 16))
        _ = try model.run(inputs: ["input": good])

        #expect(throws: ModelRuntimeError.unknownInput(name: "features", expected: ["input"])) {
            _ = try model.run(inputs: ["features": good])
        }
        #expect(throws: ModelRuntimeError.missingInput(name: "input")) {
            _ = try model.run(inputs: [:])
        }
        let doubles = try Tensor(shape: [2, 8], doubles: Array(repeating: 0.5, count: 16))
        #expect(throws: ModelRuntimeError.inputTypeMismatch(name: "input", expected: .float, actual: .double)) {
            _ = try model.run(inputs: ["input": doubles])
        }
        let narrow = try Tensor(shape: [2, 7], floats: Array(repeating: 0.5, count: 14))
        #expect(throws: ModelRuntimeError.inputShapeMismatch(name: "input", expected: [-1, 8], actual: [2, 7])) {
            _ = try model.run(inputs: ["input": narrow])
        }
        // The positional form: the same checks, and the number of tensors must match.
        #expect(try model.run([good]).count == model.outputs.count)
        #expect(throws: ModelRuntimeError.evaluationFailed(op: "graph", reason: "2 inputs given, the model takes 1 (input)")) {
            _ = try model.run([good, good])
        }
        #expect(throws: ModelRuntimeError.inputTypeMismatch(name: "input", expected: .float, actual: .double)) {
            _ = try model.run([doubles])
        }
        let flat = try Tensor(shape: [16], floats: Array(repeating: 0.5, count: 16))
        do {
            _ = try model.run(inputs: ["input": flat])
            Issue.record("expected a shape error")
        } catch {
            #expect("\(error)" == "input 'input' has shape [16], the model expects [-1, 8] (-1 = any)")
        }
    }

    @Test("tensors check their element count")
    func tensorValidation() {
        #expect(throws: ModelRuntimeError.self) { _ = try Tensor(shape: [2, 3], floats: [1, 2, 3]) }
        #expect(throws: ModelRuntimeError.self) { _ = try Tensor(shape: [-1], floats: []) }
        #expect(throws: ModelRuntimeError.self) { _ = try Tensor(shape: [0, Int.max, 4], floats: []) }
        #expect(throws: Never.self) { _ = try Tensor(shape: [0, 5], floats: []) }
    }

    @Test("ZipMap outputs are declared as sequences of maps")
    func zipMapSignature() throws {
        let model = try Fixtures.zoo.model("logistic_regression_zipmap_strings")
        #expect(model.outputs.map(\.kind) == [.tensor(.string), .sequenceOfMaps(key: .string, value: .float)])
        #expect(model.outputs[1].shape == nil)
        #expect(model.opsetImports == ["ai.onnx": 17, "ai.onnx.ml": 1])
    }

    @Test("double and integer inputs run through trees and linear models")
    func otherInputTypes() throws {
        // Trees compare double inputs in double precision.
        let tree = try runTensor(
            "TreeEnsembleRegressor", domain: "ai.onnx.ml", inputs: [try Tensor(shape: [2, 1], doubles: [0.5, 2])],
            attributes: [
                Attr.ints("nodes_treeids", [0, 0, 0]), Attr.ints("nodes_nodeids", [0, 1, 2]),
                Attr.ints("nodes_featureids", [0, 0, 0]), Attr.strings("nodes_modes", ["BRANCH_LEQ", "LEAF", "LEAF"]),
                Attr.floats("nodes_values", [1, 0, 0]), Attr.ints("nodes_truenodeids", [1, 0, 0]),
                Attr.ints("nodes_falsenodeids", [2, 0, 0]), Attr.int("n_targets", 1),
                Attr.ints("target_treeids", [0, 0]), Attr.ints("target_nodeids", [1, 2]),
                Attr.ints("target_ids", [0, 0]), Attr.floats("target_weights", [10, 20]),
            ])
        #expect(tree.floats == [10, 20])
        let linear = try runTensor(
            "LinearRegressor", domain: "ai.onnx.ml", inputs: [try Tensor(shape: [1, 2], int64s: [3, 4])],
            attributes: [Attr.floats("coefficients", [1, 2]), Attr.floats("intercepts", [0.5])])
        #expect(linear.floats == [11.5])
    }

    @Test("the comparison used by the fixture tests detects mismatches")
    func comparisonIsStrict() throws {
        let value = Value.tensor(try Tensor(shape: [2], floats: [0.5, 1e-7]))
        let ok: [String: Any] = ["datatype": "FP32", "shape": [2], "data": [0.500001, 5e-7]]
        let bad: [String: Any] = ["datatype": "FP32", "shape": [2], "data": [0.50002, 0]]
        #expect(try compare(value, with: ok, name: "p").isEmpty)
        #expect(try compare(value, with: bad, name: "p").count == 1)
        let nan: [String: Any] = ["datatype": "FP32", "shape": [2], "data": ["NaN", 0]]
        #expect(try compare(value, with: nan, name: "p").count == 1)
    }

    @Test("initializers with external data fail at load with a clear error")
    func externalData() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 2])
        var weights = Onnx_TensorProto()
        weights.name = "w"
        weights.dataType = ElementType.float.onnxCode
        weights.dims = [2]
        weights.dataLocation = .external
        builder.model.graph.initializer.append(weights)
        builder.node("Add", inputs: ["x", "w"], outputs: ["y"])
        builder.output("y")
        do {
            _ = try builder.build()
            Issue.record("expected a load failure")
        } catch {
            #expect("\(error)".contains("external data"))
        }
    }

    @Test("raw_data initializers decode")
    func rawData() throws {
        var builder = GraphBuilder()
        builder.input("x", .float, [-1, 2])
        var bias = Onnx_TensorProto()
        bias.name = "b"
        bias.dataType = ElementType.float.onnxCode
        bias.dims = [2]
        var raw = Data()
        for value: Float in [1.5, -2] { withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
        bias.rawData = raw
        builder.model.graph.initializer.append(bias)
        builder.node("Add", inputs: ["x", "b"], outputs: ["y"])
        builder.output("y")
        let y = try builder.build().run(inputs: ["x": try Tensor(shape: [1, 2], floats: [1, 1])])
        #expect(y["y"]?.tensor?.floats == [2.5, -1])
    }
}
