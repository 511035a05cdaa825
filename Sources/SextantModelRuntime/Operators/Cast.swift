import Foundation

/// `Cast` between float, double, int64, int32, bool and string. Float → integer truncates toward
/// zero; NaN and out-of-range values become the integer minimum (as x86 does) instead of trapping.
struct CastKernel: Kernel {
    let target: ElementType

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        try context.expectOutputs(1...1)
        let a = context.attributes
        let code = try a.required("to", a.int)
        guard let code32 = Int32(exactly: code), let target = ElementType(onnxCode: code32) else {
            throw a.unsupported("to", "cannot cast to \(ElementType.onnxName(Int32(truncatingIfNeeded: code)))")
        }
        self.target = target
        _ = try a.int("saturate")  // only affects float8 targets, which are not supported
    }

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let x = try inputs.tensor(0)
        return [.tensor(Tensor(unchecked: x.shape, try Self.cast(x.storage, to: target, inputs)))]
    }

    static func cast(_ storage: TensorStorage, to target: ElementType, _ inputs: KernelInputs) throws -> TensorStorage {
        if storage.elementType == target { return storage }
        if case .string(let strings) = storage {
            return try castStrings(strings, to: target, inputs)
        }
        let doubles: [Double]
        switch storage {
        case .float(let v): doubles = v.map { Double($0) }
        case .double(let v): doubles = v
        case .int64(let v):
            if target == .string { return .string(v.map { String($0) }) }
            if target == .int32 { return .int32(v.map { Int32(truncatingIfNeeded: $0) }) }
            doubles = v.map { Double($0) }
        case .int32(let v):
            if target == .string { return .string(v.map { String($0) }) }
            if target == .int64 { return .int64(v.map { Int64($0) }) }
            doubles = v.map { Double($0) }
        case .bool(let v): doubles = v.map { $0 ? 1 : 0 }
        case .string: doubles = []
        }
        switch target {
        case .float: return .float(doubles.map { Float($0) })
        case .double: return .double(doubles)
        case .int64: return .int64(doubles.map { truncating($0) })
        case .int32: return .int32(doubles.map { Int32(truncatingIfNeeded: truncating($0)) })
        case .bool: return .bool(doubles.map { $0 != 0 })
        case .string:
            if case .float(let v) = storage { return .string(v.map { String($0) }) }
            return .string(doubles.map { String($0) })
        }
    }

    private static func truncating(_ value: Double) -> Int64 {
        guard value.isFinite, value > -9.2233720368547758e18, value < 9.2233720368547758e18 else { return Int64.min }
        return Int64(value.rounded(.towardZero))
    }

    private static func castStrings(_ strings: [String], to target: ElementType, _ inputs: KernelInputs) throws -> TensorStorage {
        func parse<T>(_ convert: (String) -> T?) throws -> [T] {
            try strings.map { text in
                guard let value = convert(text.trimmingCharacters(in: .whitespaces)) else {
                    throw inputs.fail("cannot cast string '\(text)' to \(target)")
                }
                return value
            }
        }
        switch target {
        case .float: return .float(try parse { Float($0) })
        case .double: return .double(try parse { Double($0) })
        case .int64: return .int64(try parse { Int64($0) })
        case .int32: return .int32(try parse { Int32($0) })
        case .bool: return .bool(try parse { Double($0).map { $0 != 0 } })
        case .string: return .string(strings)
        }
    }
}
