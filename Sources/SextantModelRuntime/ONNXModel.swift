import Foundation
import SwiftProtobuf

/// An ONNX model loaded for native evaluation.
///
/// Loading parses the protobuf, checks the opset imports, orders the graph topologically and
/// builds a kernel per node, so every unsupported operator, attribute or opset fails here,
/// never at request time. The model is immutable and safe to share across tasks.
public struct ONNXModel: Sendable {
    /// The graph inputs a request must supply (initializers excluded), in graph order.
    public let inputs: [ValueSignature]
    /// The graph outputs `run` returns, in graph order.
    public let outputs: [ValueSignature]
    /// The outputs' names, in order (what every run returns).
    let outputNames: [String]
    /// The imported opsets: domain ("ai.onnx" for the default domain) → version.
    public let opsetImports: [String: Int64]
    /// `producer_name` and `producer_version` from the model, e.g. ("skl2onnx", "1.20.0").
    public let producer: (name: String, version: String)
    /// The model's `metadata_props`.
    public let metadata: [String: String]

    private let plan: ExecutionPlan
    /// Where the inputs and outputs live in the plan's value table, in signature order.
    private let inputSlots: [Int]
    private let outputSlots: [Int]

    /// Loads a model from its serialized `ModelProto` bytes.
    public init(data: Data) throws {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ModelRuntimeError.invalidModel("cannot parse ModelProto: \(error)")
        }
        try self.init(proto: model)
    }

    /// Loads a model from a file.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelRuntimeError.invalidModel("cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(data: data)
    }

    init(proto model: Onnx_ModelProto) throws {
        guard model.hasGraph else { throw ModelRuntimeError.invalidModel("the model has no graph") }
        var opsets: [String: Int64] = [:]
        for opset in model.opsetImport {
            let domain = OperatorRegistry.isDefaultDomain(opset.domain) ? "" : opset.domain
            if let known = opsets[domain], known != opset.version {
                throw ModelRuntimeError.invalidModel("domain '\(opset.domain)' is imported twice with versions \(known) and \(opset.version)")
            }
            opsets[domain] = opset.version
        }
        // Pre-opset models (IR version 1-2 without opset_import) are not supported.
        guard !opsets.isEmpty else { throw ModelRuntimeError.invalidModel("the model imports no opset") }
        for (domain, version) in opsets {
            // Domains the runtime does not know are only an error if a node uses them.
            if let supported = OperatorRegistry.supportedOpsets[domain], !supported.contains(version) {
                throw ModelRuntimeError.unsupportedOpset(domain: domain, version: version)
            }
        }

        let graph = model.graph
        let initializerNames = Set(graph.initializer.map(\.name))
        // Before IR version 4 initializers were also listed as inputs; those are not request inputs.
        let inputs = try graph.input.filter { !initializerNames.contains($0.name) }
            .map { try ValueSignature($0, role: "input") }
        let outputs = try graph.output.map { try ValueSignature($0, role: "output") }
        guard !outputs.isEmpty else { throw ModelRuntimeError.invalidModel("the graph has no outputs") }
        for input in inputs where input.elementType == nil {
            throw ModelRuntimeError.invalidModel("graph input '\(input.name)' must be a tensor")
        }

        let plan = try ExecutionPlan(graph: graph, opsets: opsets, graphInputs: Set(inputs.map(\.name)))
        let produced = Set(plan.steps.flatMap(\.outputs)).union(plan.constants.keys).union(inputs.map(\.name))
        for output in outputs where !produced.contains(output.name) {
            throw ModelRuntimeError.invalidGraph("graph output '\(output.name)' is never produced")
        }

        self.inputs = inputs
        self.outputs = outputs
        outputNames = outputs.map(\.name)
        self.opsetImports = Dictionary(uniqueKeysWithValues: opsets.map { ($0.key.isEmpty ? "ai.onnx" : $0.key, $0.value) })
        self.producer = (model.producerName, model.producerVersion)
        self.metadata = Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        self.plan = plan
        // Every input and produced output has a slot (checked above).
        inputSlots = inputs.map { plan.slot(of: $0.name)! }
        outputSlots = outputs.map { plan.slot(of: $0.name)! }
    }

    /// Evaluates the model on a batch.
    ///
    /// - Parameter inputs: one tensor per graph input, by name; element types must match the
    ///   declared ones and shapes must match every fixed dimension (`-1` dims are free).
    /// - Returns: every graph output by name: tensors, or `MapSequence` for ZipMap outputs.
    public func run(inputs provided: [String: Tensor]) throws -> [String: Value] {
        func isUnknown(_ name: String) -> Bool { !inputs.contains { $0.name == name } }
        if provided.keys.contains(where: isUnknown), let name = provided.keys.filter(isUnknown).min() {
            throw ModelRuntimeError.unknownInput(name: name, expected: inputs.map(\.name))
        }
        var ordered: [Tensor] = []
        ordered.reserveCapacity(inputs.count)
        for signature in inputs {
            guard let tensor = provided[signature.name] else {
                throw ModelRuntimeError.missingInput(name: signature.name)
            }
            ordered.append(tensor)
        }
        let values = try run(ordered)
        return Dictionary(uniqueKeysWithValues: zip(outputNames, values))
    }

    /// Evaluates the model on a batch given as one tensor per graph input in the order of
    /// `inputs`, and returns one value per graph output in the order of `outputs`. The same
    /// checks as `run(inputs:)`, without looking anything up by name.
    public func run(_ provided: [Tensor]) throws -> [Value] {
        guard provided.count == inputs.count else {
            throw ModelRuntimeError.evaluationFailed(
                op: "graph", reason: "\(provided.count) inputs given, the model takes \(inputs.count) (\(inputs.map(\.name).joined(separator: ", ")))")
        }
        var values: [Value] = []
        values.reserveCapacity(provided.count)
        for (signature, tensor) in zip(inputs, provided) {
            if let expected = signature.elementType, expected != tensor.elementType {
                throw ModelRuntimeError.inputTypeMismatch(name: signature.name, expected: expected, actual: tensor.elementType)
            }
            if let shape = signature.shape {
                let matches =
                    shape.count == tensor.shape.count
                    && zip(shape, tensor.shape).allSatisfy { $0 < 0 || $0 == $1 }
                guard matches else {
                    throw ModelRuntimeError.inputShapeMismatch(name: signature.name, expected: shape, actual: tensor.shape)
                }
            }
            values.append(.tensor(tensor))
        }
        let results = try plan.evaluate(inputs: values, inputSlots: inputSlots, outputSlots: outputSlots)
        return try zip(outputNames, results).map { name, value in
            guard let value else {
                throw ModelRuntimeError.evaluationFailed(op: "graph", reason: "output '\(name)' was not computed")
            }
            return value
        }
    }

    /// Every operator the runtime implements, as `OpType` (ai.onnx) or `ai.onnx.ml.OpType`.
    public static var supportedOperators: [String] { OperatorRegistry.supportedOperators }
}
