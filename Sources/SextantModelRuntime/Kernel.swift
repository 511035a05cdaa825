/// One operator instance, built and validated at load time, evaluated per request.
///
/// Kernels are immutable after construction and evaluate a whole batch per call.
protocol Kernel: Sendable {
    /// Evaluates the node. `inputs` has one entry per declared node input (`nil` for an
    /// omitted optional input); the result has one value per declared node output.
    func run(_ inputs: KernelInputs) throws -> [Value]
}

/// The inputs of one kernel call, with accessors that throw errors naming the operator.
struct KernelInputs {
    let values: [Value?]
    /// The operator, for error messages.
    let op: String

    var count: Int { values.count }

    /// The tensor at `index`; throws when it is missing or not a tensor.
    func tensor(_ index: Int) throws -> Tensor {
        guard let tensor = try optionalTensor(index) else {
            throw fail("input \(index) is required")
        }
        return tensor
    }

    /// The tensor at `index`, or `nil` when the optional input is omitted.
    func optionalTensor(_ index: Int) throws -> Tensor? {
        guard index < values.count, let value = values[index] else { return nil }
        guard case .tensor(let tensor) = value else {
            throw fail("input \(index) must be a tensor, got a sequence of maps")
        }
        return tensor
    }

    /// The float elements of input `index` (numeric types are converted).
    func floats(_ index: Int) throws -> (tensor: Tensor, values: [Float]) {
        let tensor = try tensor(index)
        guard let values = tensor.convertedToFloats() else {
            throw fail("input \(index) must be numeric, got \(tensor.elementType)")
        }
        return (tensor, values)
    }

    func fail(_ reason: String) -> ModelRuntimeError {
        .evaluationFailed(op: op, reason: reason)
    }
}

/// What a kernel factory sees of its node at load time.
struct KernelBuildContext {
    let node: Onnx_NodeProto
    /// The operator and node name, for error messages.
    let op: String
    let attributes: NodeAttributes
    /// The opset version imported for the node's domain.
    let opsetVersion: Int64
    /// Graph initializers, for operators whose "inputs" are really constants (Reshape's shape, ...).
    let constants: [String: Tensor]

    /// Checks the number of declared inputs (omitted trailing optional inputs allowed).
    func expectInputs(_ range: ClosedRange<Int>) throws {
        guard range.contains(node.input.count) else {
            throw ModelRuntimeError.invalidGraph(
                "\(op) has \(node.input.count) inputs, expected \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// Checks the number of declared outputs.
    func expectOutputs(_ range: ClosedRange<Int>) throws {
        guard range.contains(node.output.count) else {
            throw ModelRuntimeError.invalidGraph(
                "\(op) has \(node.output.count) outputs, expected \(range.lowerBound)...\(range.upperBound)")
        }
    }
}
