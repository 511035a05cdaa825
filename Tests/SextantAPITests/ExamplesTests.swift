import Foundation
import KubeCore
import Testing

@testable import SextantAPI

/// Every document under manifests/examples/ must be accepted by the generated CRD schema
/// (no unknown fields, no violations) and by the Swift validation.
@Suite("manifests/examples")
struct ExamplesTests {
    static func documents() throws -> [(file: String, json: JSONValue)] {
        try Repository.yamlFiles(in: "manifests/examples").flatMap { url in
            try YAML.documents(from: String(contentsOf: url, encoding: .utf8)).map { (url.lastPathComponent, $0) }
        }
    }

    @Test("every example decodes, passes the schema and the Swift validation")
    func examplesAreValid() throws {
        let documents = try Self.documents()
        #expect(!documents.isEmpty)
        for (file, json) in documents {
            do {
                let object = try SextantObject(json: json)
                let errors = object.resource.validate()
                #expect(errors.isEmpty, "\(file): \(errors.summary)")
            } catch {
                Issue.record("\(file): \(error)")
            }
        }
    }

    @Test("the set is complete: a Model, two versions, a canary InferenceService, a RetrainPolicy")
    func completeSet() throws {
        let objects = try Self.documents().map { try SextantObject(json: $0.json) }
        var models: [Model] = [], versions: [ModelVersion] = [], services: [InferenceService] = [], policies: [RetrainPolicy] = []
        for object in objects {
            switch object {
            case .model(let model): models.append(model)
            case .modelVersion(let version): versions.append(version)
            case .inferenceService(let service): services.append(service)
            case .retrainPolicy(let policy): policies.append(policy)
            }
        }
        #expect(models.count == 1)
        #expect(versions.count == 2)
        #expect(Set(versions.map(\.spec.version)).count == 2)
        #expect(versions.allSatisfy { $0.spec.modelName == models.first?.metadata.name })
        #expect(services.count == 1)
        #expect(services.first?.spec.rollout?.strategy == .canary)
        #expect(services.first?.spec.modelName == models.first?.metadata.name)
        #expect(policies.count == 1)
        #expect(policies.first?.spec.modelName == models.first?.metadata.name)
    }
}
