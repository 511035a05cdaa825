/// The graph compiled for evaluation: constants, and one step per node in topological order,
/// every kernel built and validated at load time.
struct ExecutionPlan: Sendable {
    /// One node: its kernel and the value names it reads and writes ("" = omitted input).
    struct Step: Sendable {
        let op: String
        let kernel: any Kernel
        let inputs: [String]
        let outputs: [String]
        /// Intermediate values read for the last time by this step, dropped after it runs.
        var releases: [String] = []
    }

    let constants: [String: Tensor]
    let steps: [Step]

    /// Orders the nodes topologically (Kahn's algorithm, stable in file order) and builds kernels.
    ///
    /// - Parameters:
    ///   - graph: the model's graph.
    ///   - opsets: the imported opset version per normalised domain ("" for ai.onnx).
    ///   - graphInputs: names supplied per request.
    init(graph: Onnx_GraphProto, opsets: [String: Int64], graphInputs: Set<String>) throws {
        let graphOutputs = Set(graph.output.map(\.name))
        var constants: [String: Tensor] = [:]
        for initializer in graph.initializer {
            guard !initializer.name.isEmpty else {
                throw ModelRuntimeError.invalidGraph("an initializer has no name")
            }
            constants[initializer.name] = try Tensor(proto: initializer, context: "initializer '\(initializer.name)'")
        }

        var available = graphInputs.union(constants.keys)
        available.insert("")
        var producer: [String: Int] = [:]
        for (index, node) in graph.node.enumerated() {
            for output in node.output where !output.isEmpty {
                guard producer[output] == nil, !graphInputs.contains(output), constants[output] == nil else {
                    throw ModelRuntimeError.invalidGraph("value '\(output)' is produced more than once")
                }
                producer[output] = index
            }
        }
        for node in graph.node {
            for input in node.input where !available.contains(input) && producer[input] == nil {
                throw ModelRuntimeError.invalidGraph(
                    "node '\(node.name)' (\(node.opType)) reads '\(input)', which no node, input or initializer provides")
            }
        }

        // Kahn's algorithm; `pending[i]` counts node i's inputs not yet available.
        var pending = graph.node.map { node in Set(node.input.filter { !available.contains($0) }).count }
        var consumers: [String: [Int]] = [:]
        for (index, node) in graph.node.enumerated() {
            for input in Set(node.input) where !available.contains(input) {
                consumers[input, default: []].append(index)
            }
        }
        var ready = pending.indices.filter { pending[$0] == 0 }
        var order: [Int] = []
        order.reserveCapacity(graph.node.count)
        while !ready.isEmpty {
            ready.sort()
            let index = ready.removeFirst()
            order.append(index)
            for output in graph.node[index].output where !output.isEmpty {
                for consumer in consumers[output] ?? [] {
                    pending[consumer] -= 1
                    if pending[consumer] == 0 { ready.append(consumer) }
                }
            }
        }
        guard order.count == graph.node.count else {
            let stuck = pending.indices.filter { pending[$0] > 0 }.map { "'\(graph.node[$0].name)'" }
            throw ModelRuntimeError.invalidGraph("the graph has a cycle through nodes \(stuck.joined(separator: ", "))")
        }

        var steps: [Step] = []
        steps.reserveCapacity(order.count)
        for index in order {
            let node = graph.node[index]
            let domain = OperatorRegistry.isDefaultDomain(node.domain) ? "" : node.domain
            let op = "\(OperatorName(domain: domain, opType: node.opType)) (node '\(node.name)')"
            guard let version = opsets[domain] else {
                throw ModelRuntimeError.invalidModel(
                    "\(op) uses domain '\(domain.isEmpty ? "ai.onnx" : domain)', which the model does not import")
            }
            let attributes = try NodeAttributes(node: node, op: op)
            let context = KernelBuildContext(
                node: node, op: op, attributes: attributes, opsetVersion: version, constants: constants)
            let kernel = try OperatorRegistry.makeKernel(domain: domain, opType: node.opType, context: context)
            try attributes.checkAllUnderstood()
            steps.append(Step(op: op, kernel: kernel, inputs: Array(node.input), outputs: Array(node.output)))
        }
        // Free each intermediate after its last reader so large batches do not keep every
        // intermediate tensor alive until the end of the request.
        var lastReader: [String: Int] = [:]
        for (position, step) in steps.enumerated() {
            for input in step.inputs where !input.isEmpty { lastReader[input] = position }
        }
        let produced = Set(steps.flatMap(\.outputs))
        for (name, position) in lastReader where produced.contains(name) && !graphOutputs.contains(name) {
            steps[position].releases.append(name)
        }
        self.constants = constants
        self.steps = steps
    }

    /// Runs every step over `inputs` (already validated) and returns all computed values.
    func evaluate(inputs: [String: Value]) throws -> [String: Value] {
        var values = inputs
        for (name, tensor) in constants where values[name] == nil {
            values[name] = .tensor(tensor)
        }
        for step in steps {
            let arguments = KernelInputs(values: step.inputs.map { $0.isEmpty ? nil : values[$0] }, op: step.op)
            let results = try step.kernel.run(arguments)
            guard results.count >= step.outputs.count else {
                throw ModelRuntimeError.evaluationFailed(
                    op: step.op, reason: "produced \(results.count) outputs, the graph declares \(step.outputs.count)")
            }
            for (name, result) in zip(step.outputs, results) where !name.isEmpty {
                values[name] = result
            }
            for name in step.releases { values[name] = nil }
        }
        return values
    }
}
