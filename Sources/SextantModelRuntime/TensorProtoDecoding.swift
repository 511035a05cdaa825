import Foundation

extension Tensor {
    /// Decodes an ONNX `TensorProto` (initializer or tensor attribute): typed fields or
    /// little-endian `raw_data`. `context` names the tensor in errors.
    init(proto: Onnx_TensorProto, context: String) throws {
        guard proto.dataLocation != .external, proto.externalData.isEmpty else {
            throw ModelRuntimeError.invalidTensor("\(context): external data (tensor stored outside the model file) is not supported")
        }
        guard let type = ElementType(onnxCode: proto.dataType) else {
            throw ModelRuntimeError.invalidTensor(
                "\(context): unsupported element type \(ElementType.onnxName(proto.dataType))")
        }
        guard proto.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
            throw ModelRuntimeError.invalidTensor("\(context): invalid dims \(proto.dims)")
        }
        let shape = proto.dims.map { Int($0) }
        guard let count = Tensor.elementCount(shape), count <= Int(Int32.max) else {
            throw ModelRuntimeError.invalidTensor("\(context): dims \(proto.dims) are too large")
        }
        let raw = proto.rawData
        let hasRaw = !raw.isEmpty

        func checkRaw(_ width: Int) throws {
            guard raw.count == count * width else {
                throw ModelRuntimeError.invalidTensor(
                    "\(context): raw_data has \(raw.count) bytes, shape \(shape) of \(type) needs \(count * width)")
            }
        }
        func checkCount(_ n: Int, _ field: String) throws {
            guard n == count else {
                throw ModelRuntimeError.invalidTensor("\(context): \(field) has \(n) values, shape \(shape) needs \(count)")
            }
        }

        let storage: TensorStorage
        switch type {
        case .float:
            if hasRaw {
                try checkRaw(4)
                storage = .float(Self.decodeRaw(raw, count: count) { Float(bitPattern: UInt32(littleEndian: $0)) })
            } else {
                try checkCount(proto.floatData.count, "float_data")
                storage = .float(proto.floatData)
            }
        case .double:
            if hasRaw {
                try checkRaw(8)
                storage = .double(Self.decodeRaw(raw, count: count) { Double(bitPattern: UInt64(littleEndian: $0)) })
            } else {
                try checkCount(proto.doubleData.count, "double_data")
                storage = .double(proto.doubleData)
            }
        case .int64:
            if hasRaw {
                try checkRaw(8)
                storage = .int64(Self.decodeRaw(raw, count: count) { Int64(bitPattern: UInt64(littleEndian: $0)) })
            } else {
                try checkCount(proto.int64Data.count, "int64_data")
                storage = .int64(proto.int64Data)
            }
        case .int32:
            if hasRaw {
                try checkRaw(4)
                storage = .int32(Self.decodeRaw(raw, count: count) { Int32(bitPattern: UInt32(littleEndian: $0)) })
            } else {
                try checkCount(proto.int32Data.count, "int32_data")
                storage = .int32(proto.int32Data)
            }
        case .bool:
            if hasRaw {
                try checkRaw(1)
                storage = .bool(raw.map { $0 != 0 })
            } else {
                try checkCount(proto.int32Data.count, "int32_data")
                storage = .bool(proto.int32Data.map { $0 != 0 })
            }
        case .string:
            try checkCount(proto.stringData.count, "string_data")
            storage = .string(proto.stringData.map { String(decoding: $0, as: UTF8.self) })
        }
        self.init(unchecked: shape, storage)
    }

    private static func decodeRaw<Bits: FixedWidthInteger, T>(
        _ raw: Data, count: Int, _ convert: (Bits) -> T
    ) -> [T] {
        raw.withUnsafeBytes { buffer in
            (0..<count).map { index in
                convert(buffer.loadUnaligned(fromByteOffset: index * MemoryLayout<Bits>.size, as: Bits.self))
            }
        }
    }
}
