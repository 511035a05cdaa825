import Foundation

/// A drift baseline (`sextant.drift-baseline/v1`, see docs/drift-baseline.md).
public struct DriftBaseline: Codable, Sendable {
    /// One input column's training distribution.
    public struct Feature: Codable, Sendable {
        public var name: String
        public var index: Int
        public var count: Int
        public var bins: [Double]
        public var binFractions: [Double]
    }

    /// The model's prediction distribution on the training rows.
    public struct Prediction: Codable, Sendable {
        public var type: String
        public var output: String?
        public var classFractions: [String: Double]?
        public var bins: [Double]?
        public var binFractions: [Double]?
    }

    public var format: String
    public var model: String?
    public var rowCount: Int?
    public var features: [Feature]
    public var prediction: Prediction?

    /// Decodes and checks a baseline document.
    public static func decode(_ data: Data) throws -> DriftBaseline {
        let baseline = try JSONDecoder().decode(DriftBaseline.self, from: data)
        guard baseline.format == "sextant.drift-baseline/v1" else {
            throw ModelLoadError.invalidModel("drift baseline has format '\(baseline.format)', expected sextant.drift-baseline/v1")
        }
        for feature in baseline.features where feature.binFractions.count != feature.bins.count + 1 {
            throw ModelLoadError.invalidModel(
                "drift baseline feature '\(feature.name)' has \(feature.bins.count) cut points but \(feature.binFractions.count) fractions")
        }
        return baseline
    }
}

/// Pure PSI / KS functions on binned distributions (docs/drift-baseline.md).
public enum DriftMath {
    /// The PSI clamp.
    public static let epsilon = 1e-4

    /// The bin of `x`: the number of cut points strictly less than `x`.
    public static func bin(of x: Double, cuts: [Double]) -> Int {
        var low = 0
        var high = cuts.count
        while low < high {
            let mid = (low + high) / 2
            if cuts[mid] < x { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// PSI of serving `counts` against baseline `fractions`; nil when there are no serving values.
    public static func psi(counts: [Int], fractions: [Double]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        var sum = 0.0
        for (count, expected) in zip(counts, fractions) {
            let a = max(Double(count) / Double(total), epsilon)
            let e = max(expected, epsilon)
            sum += (a - e) * log(a / e)
        }
        return sum
    }

    /// Binned KS: max |B_k - S_k| over the cut points; nil when there are no serving values.
    public static func ks(counts: [Int], fractions: [Double]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        var baseline = 0.0
        var serving = 0.0
        var best = 0.0
        for k in 0..<max(0, fractions.count - 1) {
            baseline += fractions[k]
            serving += Double(counts[k]) / Double(total)
            best = max(best, abs(baseline - serving))
        }
        return best
    }
}

/// Drift of one feature, as reported in stats and metrics.
public struct FeatureDrift: Sendable, Codable, Equatable {
    public var name: String
    public var psi: Double?
    public var ks: Double?
    public var count: Int
}

/// Keeps the bins of the last `window` rows per feature and computes PSI/KS against a baseline.
///
/// Not thread-safe on its own; the data plane guards it with a lock. Each push is O(features).
public struct DriftWindow: Sendable {
    /// The baseline.
    public let baseline: DriftBaseline
    /// Rows kept.
    public let window: Int
    private var ring: [UInt8]  // window * features bin indexes, 255 = missing
    private var counts: [[Int]]
    private var next = 0
    private var filled = 0

    /// Creates an empty window.
    public init(baseline: DriftBaseline, window: Int = 1000) {
        self.baseline = baseline
        self.window = max(1, window)
        ring = Array(repeating: 255, count: self.window * baseline.features.count)
        counts = baseline.features.map { Array(repeating: 0, count: $0.binFractions.count) }
    }

    /// Adds rows of a row-major `[rows, width]` float matrix.
    public mutating func push(rows: Int, width: Int, value: (Int) -> Double) {
        let featureCount = baseline.features.count
        guard featureCount > 0 else { return }
        for row in 0..<rows {
            let slot = next * featureCount
            for (f, feature) in baseline.features.enumerated() {
                if filled == window {
                    let old = ring[slot + f]
                    if old != 255 { counts[f][Int(old)] -= 1 }
                }
                var bin: UInt8 = 255
                if feature.index < width {
                    let x = value(row * width + feature.index)
                    if !x.isNaN { bin = UInt8(DriftMath.bin(of: x, cuts: feature.bins)) }
                }
                ring[slot + f] = bin
                if bin != 255 { counts[f][Int(bin)] += 1 }
            }
            next = (next + 1) % window
            if filled < window { filled += 1 }
        }
    }

    /// PSI and KS per feature over the rows in the window.
    public func drift() -> [FeatureDrift] {
        baseline.features.enumerated().map { f, feature in
            FeatureDrift(
                name: feature.name, psi: DriftMath.psi(counts: counts[f], fractions: feature.binFractions),
                ks: DriftMath.ks(counts: counts[f], fractions: feature.binFractions), count: counts[f].reduce(0, +))
        }
    }
}

/// The last `window` predicted class labels, for PSI of the prediction distribution against the
/// baseline's `classFractions` (labels seen only in serving get baseline fraction 0 → ε).
public struct LabelWindow: Sendable {
    private var ring: [String] = []
    private var next = 0
    private var counts: [String: Int] = [:]
    /// Rows kept.
    public let window: Int

    /// Creates an empty window.
    public init(window: Int) { self.window = max(1, window) }

    /// Adds predicted labels.
    public mutating func push(_ labels: [String]) {
        for label in labels {
            if ring.count < window {
                ring.append(label)
            } else {
                counts[ring[next], default: 0] -= 1
                ring[next] = label
            }
            next = (next + 1) % window
            counts[label, default: 0] += 1
        }
    }

    /// PSI against `baseline` class fractions; nil when empty.
    public func psi(baseline: [String: Double]) -> Double? {
        let labels = Set(baseline.keys).union(counts.filter { $0.value > 0 }.keys).sorted()
        return DriftMath.psi(counts: labels.map { counts[$0] ?? 0 }, fractions: labels.map { baseline[$0] ?? 0 })
    }
}
