/// `ai.onnx.ml.LabelEncoder`: maps int64, string or float values through a key → value table,
/// with a default for unknown keys. Opset 1 (`classes_strings`) and opset 2-3 (`keys_*`/`values_*`)
/// forms; the opset 4 tensor attributes are rejected at load.
struct LabelEncoderKernel: Kernel {
    enum Keys: Sendable {
        case int64([Int64: Int])
        case string([String: Int])
        case float([Float: Int])
    }

    let keys: Keys
    let values: TensorStorage
    let defaultValue: TensorStorage

    init(_ context: KernelBuildContext) throws {
        try context.expectInputs(1...1)
        let a = context.attributes
        let defaultInt = try a.int("default_int64", default: -1)
        let defaultString = try a.string("default_string", default: "_Unused")
        if context.opsetVersion < 2 {
            let classes = try a.required("classes_strings", a.strings)
            // Opset 1 maps strings to their index and int64 indices back to strings; the input
            // type decides the direction, so both tables are kept.
            keys = .string(Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }))
            values = .string(classes)
            defaultValue = .int64([defaultInt])
            opsetOneDefaultString = defaultString
            return
        }
        opsetOneDefaultString = nil
        let defaultFloat = try a.float("default_float", default: -0.0)
        func index<K: Hashable>(_ list: [K]) -> [K: Int] {
            Dictionary(list.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        let keyCount: Int
        if let list = try a.ints("keys_int64s") {
            keys = .int64(index(list)); keyCount = list.count
        } else if let list = try a.strings("keys_strings") {
            keys = .string(index(list)); keyCount = list.count
        } else if let list = try a.floats("keys_floats") {
            keys = .float(index(list)); keyCount = list.count
        } else {
            throw a.invalid("keys_int64s", "one of keys_int64s, keys_strings, keys_floats is required")
        }
        if let list = try a.ints("values_int64s") {
            values = .int64(list); defaultValue = .int64([defaultInt])
        } else if let list = try a.strings("values_strings") {
            values = .string(list); defaultValue = .string([defaultString])
        } else if let list = try a.floats("values_floats") {
            values = .float(list); defaultValue = .float([defaultFloat])
        } else {
            throw a.invalid("values_int64s", "one of values_int64s, values_strings, values_floats is required")
        }
        guard values.count == keyCount else {
            throw a.invalid("values_int64s", "\(values.count) values for \(keyCount) keys")
        }
    }

    /// Opset 1 only: the string for int64 inputs outside `classes_strings`.
    private let opsetOneDefaultString: String?

    func run(_ inputs: KernelInputs) throws -> [Value] {
        let tensor = try inputs.tensor(0)
        if let fallback = opsetOneDefaultString {
            guard case .string(let classes) = values else { throw inputs.fail("corrupt opset-1 table") }
            switch (tensor.storage, keys, defaultValue) {
            case (.string(let x), .string(let table), .int64(let fallbackIndex)):
                return [.tensor(Tensor(unchecked: tensor.shape, .int64(x.map { table[$0].map(Int64.init) ?? fallbackIndex[0] })))]
            case (.int64(let x), _, _):
                return [
                    .tensor(
                        Tensor(
                            unchecked: tensor.shape,
                            .string(
                                x.map {
                                    $0 >= 0 && $0 < Int64(classes.count) ? classes[Int($0)] : fallback
                                })))
                ]
            default:
                throw inputs.fail("input must be string or int64, got \(tensor.elementType)")
            }
        }
        let positions: [Int?]
        switch (tensor.storage, keys) {
        case (.int64(let x), .int64(let table)): positions = x.map { table[$0] }
        case (.string(let x), .string(let table)): positions = x.map { table[$0] }
        case (.float(let x), .float(let table)): positions = x.map { table[$0] }
        default:
            throw inputs.fail("input element type \(tensor.elementType) does not match the keys")
        }
        let storage: TensorStorage
        switch (values, defaultValue) {
        case (.int64(let v), .int64(let d)): storage = .int64(positions.map { $0.map { v[$0] } ?? d[0] })
        case (.string(let v), .string(let d)): storage = .string(positions.map { $0.map { v[$0] } ?? d[0] })
        case (.float(let v), .float(let d)): storage = .float(positions.map { $0.map { v[$0] } ?? d[0] })
        default: throw inputs.fail("corrupt value table")
        }
        return [.tensor(Tensor(unchecked: tensor.shape, storage))]
    }
}
