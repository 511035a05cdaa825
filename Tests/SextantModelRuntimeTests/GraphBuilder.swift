import Foundation

@testable import SextantModelRuntime

/// Builds small ONNX models in tests from the generated protobuf types.
struct GraphBuilder {
    var model = Onnx_ModelProto()

    init(opsets: [String: Int64] = ["": 17, "ai.onnx.ml": 3]) {
        model.irVersion = 8
        model.producerName = "sextant-tests"
        model.opsetImport = opsets.sorted { $0.key < $1.key }.map { domain, version in
            var opset = Onnx_OperatorSetIdProto()
            opset.domain = domain
            opset.version = version
            return opset
        }
    }

    /// Declares a graph input of `type` with `shape` (-1 = dynamic, named "N").
    mutating func input(_ name: String, _ type: ElementType, _ shape: [Int]) {
        model.graph.input.append(Self.valueInfo(name, type, shape))
    }

    /// Declares a graph output (type and shape are informative for tensors).
    mutating func output(_ name: String, _ type: ElementType = .float, _ shape: [Int]? = nil) {
        model.graph.output.append(Self.valueInfo(name, type, shape))
    }

    mutating func initializer(_ name: String, _ tensor: Tensor) {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        proto.dataType = tensor.elementType.onnxCode
        switch tensor.storage {
        case .float(let v): proto.floatData = v
        case .double(let v): proto.doubleData = v
        case .int64(let v): proto.int64Data = v
        case .int32(let v): proto.int32Data = v
        case .string(let v): proto.stringData = v.map { Data($0.utf8) }
        case .bool(let v): proto.int32Data = v.map { $0 ? 1 : 0 }
        }
        model.graph.initializer.append(proto)
    }

    mutating func node(
        _ opType: String, domain: String = "", inputs: [String], outputs: [String],
        attributes: [Onnx_AttributeProto] = [], name: String? = nil
    ) {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.domain = domain
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        node.name = name ?? "\(opType.lowercased())_\(model.graph.node.count)"
        model.graph.node.append(node)
    }

    func build() throws -> ONNXModel {
        try ONNXModel(data: try model.serializedBytes())
    }

    static func valueInfo(_ name: String, _ type: ElementType, _ shape: [Int]?) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = type.onnxCode
        if let shape {
            var shapeProto = Onnx_TensorShapeProto()
            shapeProto.dim = shape.map { value in
                var dim = Onnx_TensorShapeProto.Dimension()
                if value < 0 { dim.dimParam = "N" } else { dim.dimValue = Int64(value) }
                return dim
            }
            tensorType.shape = shapeProto
        }
        info.type.tensorType = tensorType
        return info
    }
}

/// Attribute constructors.
enum Attr {
    static func int(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = value; return a
    }
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = value; return a
    }
    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(value.utf8); return a
    }
    static func ints(_ name: String, _ value: [Int64]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = value; return a
    }
    static func floats(_ name: String, _ value: [Float]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .floats; a.floats = value; return a
    }
    static func strings(_ name: String, _ value: [String]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .strings; a.strings = value.map { Data($0.utf8) }; return a
    }
}

/// Runs a one-node model: inputs `x0, x1, ...` (shapes/types from the tensors), outputs `y0, y1, ...`.
func runSingleNode(
    _ opType: String, domain: String = "", opset: Int64? = nil, inputs: [Tensor], constants: [Tensor?] = [],
    attributes: [Onnx_AttributeProto] = [], outputs: Int = 1
) throws -> [Value] {
    // `opset` is the version of the node's own domain (default: ai.onnx 17, ai.onnx.ml 3).
    var builder = GraphBuilder(opsets: ["": domain.isEmpty ? opset ?? 17 : 17, "ai.onnx.ml": domain.isEmpty ? 3 : opset ?? 3])
    var names: [String] = []
    for (i, tensor) in inputs.enumerated() {
        builder.input("x\(i)", tensor.elementType, tensor.shape)
        names.append("x\(i)")
    }
    for (i, constant) in constants.enumerated() {
        if let constant {
            builder.initializer("c\(i)", constant)
            names.append("c\(i)")
        } else {
            names.append("")
        }
    }
    let outputNames = (0..<outputs).map { "y\($0)" }
    builder.node(opType, domain: domain, inputs: names, outputs: outputNames, attributes: attributes)
    for name in outputNames { builder.output(name) }
    let model = try builder.build()
    var request: [String: Tensor] = [:]
    for (i, tensor) in inputs.enumerated() { request["x\(i)"] = tensor }
    let result = try model.run(inputs: request)
    return try outputNames.map { name in
        guard let value = result[name] else { throw FixtureError("missing \(name)") }
        return value
    }
}

/// The single tensor output of a one-node model.
func runTensor(
    _ opType: String, domain: String = "", opset: Int64? = nil, inputs: [Tensor], constants: [Tensor?] = [],
    attributes: [Onnx_AttributeProto] = []
) throws -> Tensor {
    let values = try runSingleNode(opType, domain: domain, opset: opset, inputs: inputs, constants: constants, attributes: attributes)
    guard let tensor = values.first?.tensor else { throw FixtureError("\(opType) produced no tensor") }
    return tensor
}

func floatsClose(_ actual: [Float]?, _ expected: [Float], tolerance: Float = 1e-5) -> Bool {
    guard let actual, actual.count == expected.count else { return false }
    return zip(actual, expected).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}
