/// The graph compiled for evaluation: constants, and one step per node in topological order,
/// every kernel built and validated at load time.
struct ExecutionPlan: Sendable {
    /// One node: its kernel and the value names it reads and writes ("" = omitted input). A
    /// class, so running the plan does not copy (and reference-count) every field of every step.
    final class Step: Sendable {
        let op: String
        let kernel: any Kernel
        let inputs: [String]
        let outputs: [String]
        /// Intermediate values read for the last time by this step, dropped after it runs.
        let releases: [String]
        /// Where `inputs`, `outputs` (nil for an omitted one) and `releases` live in the value table.
        let inputSlots: [Int?]
        let outputSlots: [Int?]
        let releaseSlots: [Int]

        init(op: String, kernel: any Kernel, inputs: [String], outputs: [String], releases: [String], slots: [String: Int]) {
            self.op = op
            self.kernel = kernel
            self.inputs = inputs
            self.outputs = outputs
            self.releases = releases
            inputSlots = inputs.map { $0.isEmpty ? nil : slots[$0] }
            outputSlots = outputs.map { $0.isEmpty ? nil : slots[$0] }
            releaseSlots = releases.compactMap { slots[$0] }
        }
    }

    let constants: [String: Tensor]
    let steps: [Step]
    /// Every value name's slot in the table a run works on (numbered once here, so a run looks
    /// values up by index instead of hashing names).
    let slots: [String: Int]
    /// The table a run starts from: the constants in their slots, everything else empty.
    let initialValues: [Value?]

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

        var nodes: [(op: String, kernel: any Kernel, inputs: [String], outputs: [String])] = []
        nodes.reserveCapacity(order.count)
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
            nodes.append((op, kernel, Array(node.input), Array(node.output)))
        }
        // Free each intermediate after its last reader so large batches do not keep every
        // intermediate tensor alive until the end of the request.
        var lastReader: [String: Int] = [:]
        for (position, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { lastReader[input] = position }
        }
        let produced = Set(nodes.flatMap(\.outputs))
        var releases = [[String]](repeating: [], count: nodes.count)
        for (name, position) in lastReader where produced.contains(name) && !graphOutputs.contains(name) {
            releases[position].append(name)
        }
        var slots: [String: Int] = [:]
        for name in graphInputs.sorted() + constants.keys.sorted() + nodes.flatMap(\.outputs) where !name.isEmpty && slots[name] == nil {
            slots[name] = slots.count
        }
        let steps = nodes.enumerated().map { position, node in
            Step(op: node.op, kernel: node.kernel, inputs: node.inputs, outputs: node.outputs, releases: releases[position], slots: slots)
        }
        var initialValues = [Value?](repeating: nil, count: slots.count)
        for (name, tensor) in constants { initialValues[slots[name]!] = .tensor(tensor) }
        self.constants = constants
        self.steps = steps
        self.slots = slots
        self.initialValues = initialValues
    }

    /// Runs every step with `inputs` placed in `inputSlots` (same order) and returns the values
    /// in `outputSlots`, nil where one was not computed. Slots come from `slot(of:)`, looked up
    /// once, so a run hashes no names.
    func evaluate(inputs: [Value], inputSlots: [Int], outputSlots: [Int]) throws -> [Value?] {
        var values = initialValues
        for (slot, value) in zip(inputSlots, inputs) { values[slot] = value }
        try run(&values)
        return outputSlots.map { values[$0] }
    }

    /// The slot of a value name (graph inputs, constants and every node output have one).
    func slot(of name: String) -> Int? { slots[name] }

    private func run(_ values: inout [Value?]) throws {
        for step in steps {
            let arguments = KernelInputs(values: step.inputSlots.map { slot in slot.flatMap { values[$0] } }, op: step.op)
            let results = try step.kernel.run(arguments)
            guard results.count >= step.outputs.count else {
                throw ModelRuntimeError.evaluationFailed(
                    op: step.op, reason: "produced \(results.count) outputs, the graph declares \(step.outputs.count)")
            }
            for (slot, result) in zip(step.outputSlots, results) {
                if let slot { values[slot] = result }
            }
            for slot in step.releaseSlots { values[slot] = nil }
        }
    }
}
