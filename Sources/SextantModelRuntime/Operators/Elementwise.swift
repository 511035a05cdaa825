import Foundation

/// `Add`, `Sub`, `Mul`, `Div` with numpy broadcasting, for float, double, int64 and int32.
/// Integer arithmetic wraps on overflow; integer division by zero is an error.
struct BinaryArithmeticKernel: Kernel {
    enum Operation: Sendable { case add, sub, mul, div }
    let operation: Operation

    init(_ operation: Operation, _ context: KernelBuildContext) throws {
        try context.expectInputs(2...2)
        try context.expectOutputs(1...1)
        // Opset < 7 had explicit `broadcast`/`axis` attributes; only implicit broadcasting is supported.
        if context.opsetVersion < 7 {
            let a = context.attributes
            if try a.int("broadcast", default: 0) != 0 || a.has("axis") {
                throw a.unsupported("broadcast", "legacy (opset < 7) broadcasting is not supported")
            }
        }
        self.operation = operation
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let a = try inputs.tensor(0)
        let b = try inputs.tensor(1)
        guard let shape = broadcastShape(a.shape, b.shape), Tensor.elementCount(shape) != nil else {
            throw inputs.fail("shapes \(a.shape) and \(b.shape) cannot be broadcast together")
        }
        let storage: TensorStorage
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            storage = .float(floating(x, a.shape, y, b.shape, shape))
        case (.double(let x), .double(let y)):
            storage = .double(floating(x, a.shape, y, b.shape, shape))
        case (.int64(let x), .int64(let y)):
            storage = .int64(try integer(x, a.shape, y, b.shape, shape, inputs))
        case (.int32(let x), .int32(let y)):
            storage = .int32(try integer(x, a.shape, y, b.shape, shape, inputs))
        default:
            throw inputs.fail("operands must have the same numeric element type, got \(a.elementType) and \(b.elementType)")
        }
        return [.tensor(Tensor(unchecked: shape, storage))]
    }

    private func floating<T: FloatingPoint>(_ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int], _ shape: [Int]) -> [T] {
        switch operation {
        case .add: return broadcastApply(x, xs, y, ys, shape, +)
        case .sub: return broadcastApply(x, xs, y, ys, shape, -)
        case .mul: return broadcastApply(x, xs, y, ys, shape, *)
        case .div: return broadcastApply(x, xs, y, ys, shape, /)
        }
    }

    private func integer<T: FixedWidthInteger>(
        _ x: [T], _ xs: [Int], _ y: [T], _ ys: [Int], _ shape: [Int], _ inputs: KernelInputs
    ) throws -> [T] {
        switch operation {
        case .add: return broadcastApply(x, xs, y, ys, shape, &+)
        case .sub: return broadcastApply(x, xs, y, ys, shape, &-)
        case .mul: return broadcastApply(x, xs, y, ys, shape, &*)
        case .div:
            guard !y.contains(0) else { throw inputs.fail("integer division by zero") }
            return broadcastApply(x, xs, y, ys, shape) { $0.dividedReportingOverflow(by: $1).partialValue }
        }
    }
}

/// `Relu`, `Sigmoid`, `Tanh` on float and double tensors (`Relu` also on int64/int32).
struct UnaryKernel: Kernel {
    enum Operation: Sendable { case relu, sigmoid, tanh }
    let operation: Operation

    init(_ operation: Operation, _ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...1)
        self.operation = operation
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        let storage: TensorStorage
        switch (x.storage, operation) {
        case (.float(let v), .relu): storage = .float(v.map { $0 < 0 ? 0 : $0 })  // NaN stays NaN
        case (.float(let v), .sigmoid): storage = .float(v.map { 1 / (1 + expf(-$0)) })
        case (.float(let v), .tanh): storage = .float(v.map { tanhf($0) })
        case (.double(let v), .relu): storage = .double(v.map { $0 < 0 ? 0 : $0 })
        case (.double(let v), .sigmoid): storage = .double(v.map { 1 / (1 + exp(-$0)) })
        case (.double(let v), .tanh): storage = .double(v.map { Foundation.tanh($0) })
        case (.int64(let v), .relu): storage = .int64(v.map { max($0, 0) })
        case (.int32(let v), .relu): storage = .int32(v.map { max($0, 0) })
        default:
            throw inputs.fail("unsupported element type \(x.elementType)")
        }
        return [.tensor(Tensor(unchecked: x.shape, storage))]
    }
}
