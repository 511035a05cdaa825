/// The typed, flat, row-major storage of a tensor.
public enum TensorStorage: Sendable, Equatable {
    /// Float elements.
    case float([Float])
    /// Double elements.
    case double([Double])
    /// Int64 elements.
    case int64([Int64])
    /// Int32 elements.
    case int32([Int32])
    /// String elements.
    case string([String])
    /// Bool elements.
    case bool([Bool])

    /// The element type of the storage.
    public var elementType: ElementType {
        switch self {
        case .float: return .float
        case .double: return .double
        case .int64: return .int64
        case .int32: return .int32
        case .string: return .string
        case .bool: return .bool
        }
    }

    /// The number of elements.
    public var count: Int {
        switch self {
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .int64(let v): return v.count
        case .int32(let v): return v.count
        case .string(let v): return v.count
        case .bool(let v): return v.count
        }
    }
}

/// A dense tensor: a shape and row-major typed storage.
///
/// `shape == []` is a scalar holding one element. Element counts always match the shape;
/// the public initializers check it.
public struct Tensor: Sendable, Equatable {
    /// The dimensions, outermost first.
    public let shape: [Int]
    /// The elements, row-major.
    public let storage: TensorStorage

    /// Makes a tensor, checking that `storage` holds exactly as many elements as `shape` describes.
    public init(shape: [Int], storage: TensorStorage) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ModelRuntimeError.invalidTensor("negative dimension in shape \(shape)")
        }
        guard let expected = Tensor.elementCount(shape) else {
            throw ModelRuntimeError.invalidTensor("shape \(shape) is too large")
        }
        guard expected == storage.count else {
            throw ModelRuntimeError.invalidTensor("shape \(shape) needs \(expected) elements, got \(storage.count)")
        }
        self.shape = shape
        self.storage = storage
    }

    /// The number of elements of `shape`, or `nil` when a dimension is negative or the product
    /// of the non-zero dimensions overflows (so every partial product kernels take is safe).
    static func elementCount(_ shape: [Int]) -> Int? {
        var nonZero = 1
        var hasZero = false
        for dim in shape {
            guard dim >= 0 else { return nil }
            if dim == 0 { hasZero = true; continue }
            let (product, overflow) = nonZero.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            nonZero = product
        }
        return hasZero ? 0 : nonZero
    }

    /// Makes a tensor whose element count the caller has already checked.
    init(unchecked shape: [Int], _ storage: TensorStorage) {
        assert(shape.reduce(1, *) == storage.count, "shape \(shape) vs \(storage.count) elements")
        self.shape = shape
        self.storage = storage
    }

    /// A float tensor.
    public init(shape: [Int], floats: [Float]) throws { try self.init(shape: shape, storage: .float(floats)) }
    /// A double tensor.
    public init(shape: [Int], doubles: [Double]) throws { try self.init(shape: shape, storage: .double(doubles)) }
    /// An int64 tensor.
    public init(shape: [Int], int64s: [Int64]) throws { try self.init(shape: shape, storage: .int64(int64s)) }
    /// An int32 tensor.
    public init(shape: [Int], int32s: [Int32]) throws { try self.init(shape: shape, storage: .int32(int32s)) }
    /// A string tensor.
    public init(shape: [Int], strings: [String]) throws { try self.init(shape: shape, storage: .string(strings)) }
    /// A bool tensor.
    public init(shape: [Int], bools: [Bool]) throws { try self.init(shape: shape, storage: .bool(bools)) }

    /// The element type.
    public var elementType: ElementType { storage.elementType }
    /// The number of elements.
    public var count: Int { storage.count }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The elements if this is a float tensor.
    public var floats: [Float]? { if case .float(let v) = storage { return v } else { return nil } }
    /// The elements if this is a double tensor.
    public var doubles: [Double]? { if case .double(let v) = storage { return v } else { return nil } }
    /// The elements if this is an int64 tensor.
    public var int64s: [Int64]? { if case .int64(let v) = storage { return v } else { return nil } }
    /// The elements if this is an int32 tensor.
    public var int32s: [Int32]? { if case .int32(let v) = storage { return v } else { return nil } }
    /// The elements if this is a string tensor.
    public var strings: [String]? { if case .string(let v) = storage { return v } else { return nil } }
    /// The elements if this is a bool tensor.
    public var bools: [Bool]? { if case .bool(let v) = storage { return v } else { return nil } }

    /// The same elements under another shape with the same element count.
    func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(unchecked: newShape, storage)
    }

    /// Numeric elements converted to Float (`nil` for strings).
    func convertedToFloats() -> [Float]? {
        switch storage {
        case .float(let v): return v
        case .double(let v): return v.map { Float($0) }
        case .int64(let v): return v.map { Float($0) }
        case .int32(let v): return v.map { Float($0) }
        case .bool(let v): return v.map { $0 ? 1 : 0 }
        case .string: return nil
        }
    }

    /// Numeric elements converted to Int64 (`nil` for strings and non-integral element types).
    func integerValues() -> [Int64]? {
        switch storage {
        case .int64(let v): return v
        case .int32(let v): return v.map { Int64($0) }
        default: return nil
        }
    }
}

extension Tensor {
    /// Interprets the tensor as a batch of rows: `[N, C]` → (N, C); `[C]` → (1, C); scalar → (1, 1).
    /// Higher ranks keep the first dimension as N and flatten the rest into C.
    var rowsAndColumns: (rows: Int, columns: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (1, shape[0])
        default:
            let rows = shape[0]
            return (rows, rows == 0 ? shape.dropFirst().reduce(1, *) : count / rows)
        }
    }
}
