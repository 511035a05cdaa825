/// The keys of a sequence of maps (ZipMap output): int64 or string class labels.
public enum MapKeys: Sendable, Equatable {
    /// Int64 class labels (`classlabels_int64s`).
    case int64([Int64])
    /// String class labels (`classlabels_strings`).
    case string([String])

    /// The number of keys in each map.
    public var count: Int {
        switch self {
        case .int64(let k): return k.count
        case .string(let k): return k.count
        }
    }

    /// The key at `index` (which must be below `count`), printed as a string (int64 keys in decimal).
    public func keyString(at index: Int) -> String {
        switch self {
        case .int64(let k): return String(k[index])
        case .string(let k): return k[index]
        }
    }
}

/// A sequence of maps with the same keys for every row, as produced by `ai.onnx.ml.ZipMap`:
/// `seq(map(int64 | string, float))`. Stored flat: `values[row * keys.count + column]`.
public struct MapSequence: Sendable, Equatable {
    /// The keys shared by every map.
    public let keys: MapKeys
    /// The values, row-major: one row per map, one column per key.
    public let values: [Float]

    /// The number of maps in the sequence.
    public var count: Int { keys.count == 0 ? 0 : values.count / keys.count }

    /// The map of row `row` (which must be below `count`), with keys printed as strings.
    public func map(at row: Int) -> [String: Float] {
        var result: [String: Float] = [:]
        result.reserveCapacity(keys.count)
        for column in 0..<keys.count {
            result[keys.keyString(at: column)] = values[row * keys.count + column]
        }
        return result
    }
}

/// A value flowing through the graph: a tensor, or a sequence of maps (ZipMap output).
public enum Value: Sendable, Equatable {
    /// A dense tensor.
    case tensor(Tensor)
    /// A sequence of maps, as `ai.onnx.ml.ZipMap` produces.
    case mapSequence(MapSequence)

    /// The tensor, if this value is one.
    public var tensor: Tensor? {
        if case .tensor(let t) = self { return t }
        return nil
    }

    /// The sequence of maps, if this value is one.
    public var mapSequence: MapSequence? {
        if case .mapSequence(let m) = self { return m }
        return nil
    }
}
