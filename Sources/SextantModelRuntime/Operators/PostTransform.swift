import Foundation

/// The `post_transform` of ai.onnx.ml classifiers and regressors, computed as onnxruntime does
/// (float arithmetic, the same logistic, softmax and probit formulas).
enum PostTransform: String, Sendable {
    case none = "NONE"
    case logistic = "LOGISTIC"
    case softmax = "SOFTMAX"
    case softmaxZero = "SOFTMAX_ZERO"
    case probit = "PROBIT"

    init(_ attributes: NodeAttributes) throws {
        let name = try attributes.string("post_transform", default: "NONE")
        guard let transform = PostTransform(rawValue: name) else {
            throw attributes.unsupported("post_transform", "'\(name)' is not one of NONE, LOGISTIC, SOFTMAX, SOFTMAX_ZERO, PROBIT")
        }
        self = transform
    }

    /// Applies the transform to one row of two or more scores, in place.
    func applyToRow(_ row: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .none:
            return
        case .logistic:
            for i in row.indices { row[i] = Self.logistic(row[i]) }
        case .probit:
            for i in row.indices { row[i] = Self.probit(row[i]) }
        case .softmax:
            var maximum = -Float.greatestFiniteMagnitude
            for value in row where value > maximum { maximum = value }
            var sum: Float = 0
            for i in row.indices {
                row[i] = expf(row[i] - maximum)
                sum += row[i]
            }
            for i in row.indices { row[i] /= sum }
        case .softmaxZero:
            var maximum = -Float.greatestFiniteMagnitude
            for value in row where value > maximum { maximum = value }
            let expNegMax = expf(-maximum)
            var sum: Float = 0
            for i in row.indices {
                let value = row[i]
                if value > 0.0000001 || value < -0.0000001 {
                    row[i] = expf(value - maximum)
                    sum += row[i]
                } else {
                    row[i] = value * expNegMax
                }
            }
            for i in row.indices { row[i] /= sum }
        }
    }

    /// The numerically stable logistic function onnxruntime uses.
    static func logistic(_ value: Float) -> Float {
        let v = 1 / (1 + expf(-abs(value)))
        return value < 0 ? 1 - v : v
    }

    /// onnxruntime's probit: `sqrt(2) * erfinv(2x - 1)` with its closed-form erfinv approximation.
    static func probit(_ value: Float) -> Float {
        Float(2).squareRoot() * erfInverse(2 * value - 1)
    }

    private static func erfInverse(_ input: Float) -> Float {
        let sign: Float = input < 0 ? -1 : 1
        let x = (1 - input) * (1 + input)
        let lnx = logf(x)
        let v = 2 / (Float.pi * 0.147) + 0.5 * lnx
        let v2 = 1 / 0.147 * lnx
        let v3 = -v + (v * v - v2).squareRoot()
        return sign * v3.squareRoot()
    }
}
