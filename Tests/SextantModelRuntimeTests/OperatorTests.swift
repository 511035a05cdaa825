import Foundation
import Testing

@testable import SextantModelRuntime

@Suite("ai.onnx operators")
struct OperatorTests {
    @Test("Add/Sub/Mul/Div broadcast like numpy")
    func arithmetic() throws {
        let a = try Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let row = try Tensor(shape: [1, 3], floats: [10, 20, 30])
        let column = try Tensor(shape: [2, 1], floats: [2, 4])
        #expect(try runTensor("Add", inputs: [a], constants: [row]).floats == [11, 22, 33, 14, 25, 36])
        #expect(try runTensor("Sub", inputs: [a], constants: [column]).floats == [-1, 0, 1, 0, 1, 2])
        #expect(try runTensor("Mul", inputs: [a], constants: [try Tensor(shape: [], floats: [2])]).floats == [2, 4, 6, 8, 10, 12])
        #expect(try runTensor("Div", inputs: [a], constants: [column]).floats == [0.5, 1, 1.5, 1, 1.25, 1.5])
        // [2, 1] against [3] broadcasts to [2, 3] (general path).
        let out = try runTensor("Add", inputs: [column], constants: [try Tensor(shape: [3], floats: [1, 2, 3])])
        #expect(out.shape == [2, 3])
        #expect(out.floats == [3, 4, 5, 5, 6, 7])
        let ints = try runTensor("Div", inputs: [try Tensor(shape: [2], int64s: [7, -7])], constants: [try Tensor(shape: [1], int64s: [2])])
        #expect(ints.int64s == [3, -3])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("Div", inputs: [try Tensor(shape: [1], int64s: [1])], constants: [try Tensor(shape: [1], int64s: [0])])
        }
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("Add", inputs: [a], constants: [try Tensor(shape: [2], floats: [1, 2])])
        }
    }

    @Test("Relu, Sigmoid, Tanh")
    func activations() throws {
        let x = try Tensor(shape: [3], floats: [-1, 0, 2])
        #expect(try runTensor("Relu", inputs: [x]).floats == [0, 0, 2])
        #expect(floatsClose(try runTensor("Sigmoid", inputs: [x]).floats, [0.26894142, 0.5, 0.880797]))
        #expect(floatsClose(try runTensor("Tanh", inputs: [x]).floats, [-0.7615942, 0, 0.9640276]))
    }

    @Test("Gemm with transB, alpha, beta and a broadcast C")
    func gemm() throws {
        let a = try Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let b = try Tensor(shape: [2, 2], floats: [1, 0, 1, 1])  // used transposed: [[1, 1], [0, 1]]
        let c = try Tensor(shape: [2], floats: [10, 20])
        let y = try runTensor(
            "Gemm", inputs: [a], constants: [b, c],
            attributes: [Attr.int("transB", 1), Attr.float("alpha", 2), Attr.float("beta", 0.5)])
        // A·Bᵀ = [[1, 3], [3, 7]] → ×2 + [5, 10]
        #expect(y.shape == [2, 2])
        #expect(y.floats == [7, 16, 11, 24])
    }

    @Test("MatMul: 2-D, 1-D and batched")
    func matMul() throws {
        let a = try Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 1], floats: [1, 0, -1])
        let y = try runTensor("MatMul", inputs: [a], constants: [b])
        #expect(y.shape == [2, 1] && y.floats == [-2, -2])
        let v = try runTensor("MatMul", inputs: [a], constants: [try Tensor(shape: [3], floats: [1, 1, 1])])
        #expect(v.shape == [2] && v.floats == [6, 15])
        let batched = try runTensor("MatMul", inputs: [try Tensor(shape: [2, 1, 3], floats: [1, 2, 3, 4, 5, 6])], constants: [b])
        #expect(batched.shape == [2, 1, 1] && batched.floats == [-2, -2])
    }

    @Test("Softmax and LogSoftmax along an axis, and the opset < 13 flattening form")
    func softmax() throws {
        let x = try Tensor(shape: [2, 2], floats: [0, 0, 1, 3])
        #expect(floatsClose(try runTensor("Softmax", inputs: [x]).floats, [0.5, 0.5, 0.11920292, 0.880797]))
        #expect(
            floatsClose(
                try runTensor("Softmax", inputs: [x], attributes: [Attr.int("axis", 0)]).floats,
                [0.26894142, 0.04742587, 0.7310586, 0.95257413]))
        #expect(floatsClose(try runTensor("LogSoftmax", inputs: [x]).floats, [-0.6931472, -0.6931472, -2.126928, -0.126928]))
        // Opset 11, axis 0 → softmax over all four values.
        let flat = try runTensor("Softmax", opset: 11, inputs: [x], attributes: [Attr.int("axis", 0)])
        #expect(floatsClose(flat.floats, [0.040316373, 0.040316373, 0.10959126, 0.809776]))
    }

    @Test("ArgMax with keepdims and select_last_index")
    func argMax() throws {
        let x = try Tensor(shape: [2, 3], floats: [1, 5, 5, 7, 0, 7])
        let kept = try runTensor("ArgMax", inputs: [x], attributes: [Attr.int("axis", 1)])
        #expect(kept.shape == [2, 1] && kept.int64s == [1, 0])
        let last = try runTensor("ArgMax", inputs: [x], attributes: [Attr.int("axis", 1), Attr.int("keepdims", 0), Attr.int("select_last_index", 1)])
        #expect(last.shape == [2] && last.int64s == [2, 2])
    }

    @Test("Reshape with 0 and -1, Flatten, Identity")
    func reshape() throws {
        let x = try Tensor(shape: [2, 3, 2], floats: (0..<12).map(Float.init))
        let y = try runTensor("Reshape", inputs: [x], constants: [try Tensor(shape: [2], int64s: [0, -1])])
        #expect(y.shape == [2, 6] && y.floats == x.floats)
        #expect(try runTensor("Flatten", inputs: [x], attributes: [Attr.int("axis", 2)]).shape == [6, 2])
        #expect(try runTensor("Identity", inputs: [x]) == x)
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("Reshape", inputs: [x], constants: [try Tensor(shape: [1], int64s: [5])])
        }
    }

    @Test("Concat along axes 0 and 1")
    func concat() throws {
        let a = try Tensor(shape: [2, 1], floats: [1, 2])
        let b = try Tensor(shape: [2, 2], floats: [3, 4, 5, 6])
        let y = try runTensor("Concat", inputs: [a], constants: [b], attributes: [Attr.int("axis", 1)])
        #expect(y.shape == [2, 3] && y.floats == [1, 3, 4, 2, 5, 6])
        let z = try runTensor("Concat", inputs: [b], constants: [b], attributes: [Attr.int("axis", -2)])
        #expect(z.shape == [4, 2] && z.floats == [3, 4, 5, 6, 3, 4, 5, 6])
    }

    @Test("Cast between numbers, bools and strings")
    func cast() throws {
        let x = try Tensor(shape: [4], floats: [1.7, -1.7, 0, .nan])
        #expect(try runTensor("Cast", inputs: [x], attributes: [Attr.int("to", 7)]).int64s == [1, -1, 0, Int64.min])
        #expect(try runTensor("Cast", inputs: [x], attributes: [Attr.int("to", 9)]).bools == [true, true, false, true])
        let ints = try Tensor(shape: [2], int64s: [3, -4])
        #expect(try runTensor("Cast", inputs: [ints], attributes: [Attr.int("to", 8)]).strings == ["3", "-4"])
        #expect(try runTensor("Cast", inputs: [ints], attributes: [Attr.int("to", 11)]).doubles == [3, -4])
        let strings = try Tensor(shape: [2], strings: ["1.5", " 2"])
        #expect(try runTensor("Cast", inputs: [strings], attributes: [Attr.int("to", 1)]).floats == [1.5, 2])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("Cast", inputs: [x], attributes: [Attr.int("to", 10)])  // float16: unsupported at load
        }
    }

    @Test("Squeeze and Unsqueeze: attribute form (opset 11) and input form (opset 13)")
    func squeeze() throws {
        let x = try Tensor(shape: [1, 3, 1], floats: [1, 2, 3])
        #expect(try runTensor("Squeeze", opset: 11, inputs: [x], attributes: [Attr.ints("axes", [0])]).shape == [3, 1])
        #expect(try runTensor("Squeeze", inputs: [x], constants: [try Tensor(shape: [1], int64s: [-1])]).shape == [1, 3])
        #expect(try runTensor("Squeeze", inputs: [x]).shape == [3])
        let v = try Tensor(shape: [3], floats: [1, 2, 3])
        #expect(try runTensor("Unsqueeze", opset: 11, inputs: [v], attributes: [Attr.ints("axes", [0, 2])]).shape == [1, 3, 1])
        #expect(try runTensor("Unsqueeze", inputs: [v], constants: [try Tensor(shape: [1], int64s: [-1])]).shape == [3, 1])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("Squeeze", inputs: [x], constants: [try Tensor(shape: [1], int64s: [1])])
        }
    }

    @Test("Gather along axes 0 and 1 with negative indices")
    func gather() throws {
        let x = try Tensor(shape: [2, 3], floats: [1, 2, 3, 4, 5, 6])
        let rows = try runTensor("Gather", inputs: [x], constants: [try Tensor(shape: [1], int64s: [-1])])
        #expect(rows.shape == [1, 3] && rows.floats == [4, 5, 6])
        let columns = try runTensor("Gather", inputs: [x], constants: [try Tensor(shape: [2], int32s: [2, 0])], attributes: [Attr.int("axis", 1)])
        #expect(columns.shape == [2, 2] && columns.floats == [3, 1, 6, 4])
        let scalar = try runTensor("Gather", inputs: [x], constants: [try Tensor(shape: [], int64s: [1])], attributes: [Attr.int("axis", 1)])
        #expect(scalar.shape == [2] && scalar.floats == [2, 5])
        #expect(throws: ModelRuntimeError.self) {
            _ = try runTensor("Gather", inputs: [x], constants: [try Tensor(shape: [1], int64s: [3])])
        }
    }
}
