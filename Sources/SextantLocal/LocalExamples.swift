import Foundation
import KubeCore

/// The quick-start manifests (`manifests/examples/`), adapted to run on this machine:
///
/// - artifact and drift-baseline URIs under `s3://sextant-models/` point at the same paths
///   under `manifests/examples/models/` (`file://`), where the repository ships the models;
/// - retraining writes its output under the local state directory, and the trainer container
///   runs `hack/fixtures/train_tiny.py` with the local `python3` instead of the example image.
///
/// Everything else is applied exactly as written.
public enum LocalExamples {
    /// The bucket prefix the examples use.
    public static let bucketPrefix = "s3://sextant-models/"

    /// The example objects, in file order, adapted for local mode.
    public static func load(repository: URL, stateDirectory: URL) throws -> [JSONValue] {
        let directory = repository.appendingPathComponent("manifests/examples")
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        var objects: [JSONValue] = []
        for file in files {
            for document in try YAML.documents(from: String(contentsOf: file, encoding: .utf8)) where document.objectValue != nil {
                objects.append(adapt(document, repository: repository, stateDirectory: stateDirectory))
            }
        }
        return objects
    }

    /// One object adapted for local mode (see the type's documentation).
    public static func adapt(_ object: JSONValue, repository: URL, stateDirectory: URL) -> JSONValue {
        var object = object
        let models = "file://" + repository.appendingPathComponent("manifests/examples/models").path + "/"
        func local(_ uri: String?) -> JSONValue? {
            guard let uri, uri.hasPrefix(bucketPrefix) else { return uri.map(JSONValue.string) }
            return .string(models + uri.dropFirst(bucketPrefix.count))
        }
        switch object["kind"]?.stringValue {
        case "ModelVersion":
            let artifactURI = local(object["spec"]?["artifact"]?["uri"]?.stringValue)
            object["spec"]?["artifact"]?["uri"] = artifactURI
            if let baseline = object["spec"]?["driftBaseline"]?["uri"]?.stringValue {
                let baselineURI = local(baseline)
                object["spec"]?["driftBaseline"]?["uri"] = baselineURI
            }
        case "RetrainPolicy":
            let output = "file://" + stateDirectory.appendingPathComponent("models").path + "/{model}/v{version}/model.onnx"
            object["spec"]?["output"]?["artifactURITemplate"] = .string(output)
            let trainer = repository.appendingPathComponent("hack/fixtures/train_tiny.py").path
            if var containers = object.value(at: ["spec", "jobTemplate", "spec", "template", "spec", "containers"])?.arrayValue, !containers.isEmpty {
                containers[0]["command"] = ["python3", .string(trainer)]
                containers[0]["args"] = nil
                object["spec"]?["jobTemplate"]?["spec"]?["template"]?["spec"]?["containers"] = .array(containers)
            }
        default:
            break
        }
        return object
    }
}
