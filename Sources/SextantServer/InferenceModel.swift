import Foundation
import SextantModelRuntime

/// A loaded model as the data plane sees it: name, version, signature and the runtime model.
/// A class: every request reads it, and a reference is one count to copy.
public final class InferenceModel: Sendable {
    /// The served model name.
    public let name: String
    /// The served model version.
    public let version: String
    /// The runtime model.
    public let model: ONNXModel
    /// Tensor outputs (sequence-of-map outputs such as ZipMap are not exposed over V1/V2).
    public let tensorOutputs: [ValueSignature]
    /// The output V1 returns and metrics summarise: `label` for classifiers, else the first tensor output.
    public let primaryOutput: String
    /// Whether the model is a classifier (it has an integer or string `label` output).
    public let isClassifier: Bool

    /// Wraps a runtime model.
    public init(name: String, version: String, model: ONNXModel) {
        self.name = name
        self.version = version
        self.model = model
        let tensors = model.outputs.filter { $0.elementType != nil }
        self.tensorOutputs = tensors
        if let label = tensors.first(where: { $0.name == "label" && [.int64, .int32, .string].contains($0.elementType) }) {
            primaryOutput = label.name
            isClassifier = true
        } else {
            primaryOutput = tensors.first?.name ?? model.outputs[0].name
            isClassifier = false
        }
    }
}

/// A request-time error with the HTTP status it maps to.
public struct InferenceError: Error, CustomStringConvertible, Sendable {
    /// HTTP status code.
    public var status: Int
    /// Message for the client; names the offending field.
    public var message: String

    /// Creates an error.
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    /// 400 Bad Request.
    public static func badRequest(_ message: String) -> InferenceError { InferenceError(400, message) }

    public var description: String { message }
}
