import Foundation
import KubeCore
import Testing

@testable import SextantAPI

@Suite("Generated CRDs")
struct CRDGenerationTests {
    @Test("crds/ is exactly what sextant-crdgen prints (run hack/generate-crds.sh after changing the types)")
    func noDrift() throws {
        let generated = try SextantCRDs.files()
        let onDisk = try Repository.yamlFiles(in: "crds").map(\.lastPathComponent)
        #expect(onDisk == generated.map(\.name).sorted(), "crds/ has stale or missing files")
        for file in generated {
            let committed = try String(contentsOf: Repository.url("crds/\(file.name)"), encoding: .utf8)
            #expect(committed == file.contents, "crds/\(file.name) differs from the generator's output")
        }
    }

    @Test("docs/reference.md and the README's API summary are what the generator prints")
    func referenceDocsInStep() throws {
        let reference = try String(contentsOf: Repository.url("docs/reference.md"), encoding: .utf8)
        #expect(reference == ReferenceDocs.fullReference(), "docs/reference.md is stale: run hack/generate.sh")
        let readme = try String(contentsOf: Repository.url("README.md"), encoding: .utf8)
        #expect(ReferenceDocs.updatingReadme(readme) == readme, "README.md API summary is stale: run hack/generate.sh")
        for kind in ["Model", "ModelVersion", "InferenceService", "RetrainPolicy"] {
            #expect(reference.contains("## \(kind)\n"))
        }
        #expect(reference.contains("CEL: set trackStage or pinnedVersion, not both"))
    }

    @Test("every CRD is apiextensions.k8s.io/v1 with a structural schema and a status subresource")
    func structural() throws {
        for crd in SextantCRDs.all {
            #expect(crd.apiVersion == "apiextensions.k8s.io/v1")
            #expect(crd.metadata.name == "\(crd.spec.names.plural).ml.sextant.dev")
            #expect(crd.spec.scope == "Namespaced")
            let version = try #require(crd.spec.versions.first)
            #expect(version.name == "v1alpha1" && version.served && version.storage)
            #expect(version.subresources?.status == .object([:]))
            let violations = StructuralSchema.violations(of: version.schema.openAPIV3Schema)
            #expect(violations.isEmpty, "\(crd.spec.names.kind): \(violations.joined(separator: "; "))")
        }
    }

    @Test("the YAML on disk decodes back into the same CRD")
    func yamlRoundTrip() throws {
        for crd in SextantCRDs.all {
            let text = try String(contentsOf: Repository.url("crds/\(SextantCRDs.fileName(for: crd))"), encoding: .utf8)
            let decoded: CustomResourceDefinition = try YAML.document(from: text).decode()
            #expect(decoded == crd)
        }
    }

    @Test("every CEL rule compiles and uses only functions the project's evaluator implements")
    func rulesAreEvaluable() {
        func rules(_ schema: JSONSchemaProps) -> [ValidationRule] {
            (schema.validations ?? []) + (schema.properties ?? [:]).values.flatMap(rules)
                + (schema.items.map(rules) ?? [])
                + { if case .schema(let values)? = schema.additionalProperties { return rules(values) } else { return [] } }()
        }
        var count = 0
        for kind in SextantCRDs.kinds {
            for rule in rules(kind.openAPISchema) {
                count += 1
                switch CELValidation.compile(rule.rule) {
                case .success(let expression):
                    #expect(expression.unsupportedFunctions.isEmpty, "\(kind.kind): \(rule.rule)")
                case .failure(let error):
                    Issue.record("\(kind.kind): \(rule.rule): \(error)")
                }
            }
        }
        #expect(count >= 15)
    }

    @Test("names: category sextant, short names that do not collide with KServe or Seldon")
    func names() {
        let taken: Set<String> = ["isvc", "inferenceservice", "inferenceservices", "tm", "sdep", "sr", "ig", "po", "svc", "deploy", "mv", "model"]
        var seen = Set<String>()
        for crd in SextantCRDs.all {
            #expect(crd.spec.names.categories == ["sextant"])
            #expect(crd.spec.names.listKind == crd.spec.names.kind + "List")
            for short in crd.spec.names.shortNames ?? [] {
                #expect(!taken.contains(short), "\(short) collides with a well-known short name")
                #expect(seen.insert(short).inserted, "\(short) used twice")
            }
        }
        #expect(seen == ["smodel", "smv", "sisvc", "srp"])
    }

    @Test("printer columns point at fields the schema declares")
    func printerColumnsResolve() throws {
        for crd in SextantCRDs.all {
            let version = try #require(crd.spec.versions.first)
            let columns = try #require(version.additionalPrinterColumns)
            #expect(columns.contains { $0.name == "Age" && $0.type == "date" })
            for column in columns where !column.jsonPath.hasPrefix(".metadata") {
                let path = column.jsonPath.replacingOccurrences(of: #"\[\?\(.*\)\]"#, with: "[]", options: .regularExpression)
                #expect(
                    schemaNode(version.schema.openAPIV3Schema, path: path) != nil,
                    "\(crd.spec.names.kind) column \(column.name): \(column.jsonPath) is not in the schema")
            }
        }
    }

    /// Follows a simple JSONPath (`.spec.a.b`, `.status.conditions[].status`) through the schema.
    private func schemaNode(_ schema: JSONSchemaProps, path: String) -> JSONSchemaProps? {
        var node: JSONSchemaProps? = schema
        for segment in path.split(separator: ".") {
            let isList = segment.hasSuffix("[]")
            node = node?.properties?[String(isList ? segment.dropLast(2) : segment)]
            if isList { node = node?.items }
        }
        return node
    }
}
