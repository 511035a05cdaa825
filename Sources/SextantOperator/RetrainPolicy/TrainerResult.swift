import Foundation
import KubeCore
import SextantAPI

/// The contract between a training Job and the operator: the trainer writes one JSON object
/// as its container's termination message (`/dev/termination-log`; Kubernetes keeps up to
/// 4 KiB of it in the pod status):
///
/// ```json
/// {"artifact": {"uri": "s3://models/fraud/v7/model.onnx", "digest": "sha256:…"},
///  "metrics": {"accuracy": 0.94},
///  "lineage": {"dataset": {"uri": "…"}, "source": {"repository": "…", "revision": "…"},
///              "hyperparameters": {"C": "1.0"}},
///  "driftBaseline": {"uri": "…/baseline.json"}}
/// ```
///
/// `artifact.uri` and `artifact.digest` are required; the rest is optional. A trainer that
/// fails writes `{"error": "…"}` and exits non-zero. See docs/retraining.md.
public struct TrainerResult: Codable, Sendable, Equatable {
    public var artifact: Artifact
    public var metrics: [String: Double]?
    public var lineage: Lineage?
    public var driftBaseline: DriftBaseline?
    public var error: String?

    /// Why a termination message is not a usable result.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses and checks a termination message.
    public static func parse(_ message: String) throws -> TrainerResult {
        let trimmed = message.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw Invalid(description: "the trainer wrote no termination message (expected one JSON object with artifact.uri and artifact.digest)")
        }
        // The message may carry log lines before the JSON (FallbackToLogsOnError): use the last
        // line that parses, or the last lines from one on, for a JSON object written over several lines.
        let lines = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
        let candidates =
            [trimmed]
            + lines.indices.reversed().flatMap { index in
                [String(lines[index]), lines[index...].joined(separator: "\n")]
            }
        for candidate in candidates {
            guard let data = candidate.data(using: .utf8), var value = try? JSONValue(parsing: data), value.objectValue != nil else { continue }
            // Hyper-parameters are recorded as strings; a trainer may write numbers or lists.
            if let hyperparameters = value["lineage"]?["hyperparameters"]?.objectValue {
                value["lineage"]?["hyperparameters"] = .object(hyperparameters.mapValues { $0.stringValue.map(JSONValue.string) ?? .string($0.jsonString()) })
            }
            if let error = value["error"]?.stringValue { throw Invalid(description: "the trainer reported an error: \(error)") }
            guard value["artifact"]?["uri"]?.stringValue != nil else { throw Invalid(description: "termination message has no artifact.uri") }
            guard let digest = value["artifact"]?["digest"]?.stringValue else { throw Invalid(description: "termination message has no artifact.digest") }
            guard Patterns.matches(digest, ArtifactURI.digestPattern) else {
                throw Invalid(description: "artifact.digest \(digest) is not sha256: followed by 64 lower-case hex digits")
            }
            do {
                return try value.decode(as: TrainerResult.self)
            } catch {
                throw Invalid(description: "termination message does not match the trainer contract: \(error)")
            }
        }
        throw Invalid(description: "termination message is not JSON: \(trimmed.prefix(200))")
    }
}
