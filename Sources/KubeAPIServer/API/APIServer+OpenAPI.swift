import Foundation
import KubeCore

extension APIServer {
    /// OpenAPI v3 documents: the root index of group-versions and one document per group-version
    /// with a schema per kind (the CRD schema for custom resources), enough for `kubectl explain`
    /// and for kubectl to see that the server validates fields itself.
    func openAPI(_ target: RequestTarget) throws -> APIResponse {
        switch target {
        case .openAPIv3Root:
            var paths: [String: JSONValue] = [:]
            for type in registry.all {
                let path = type.group.isEmpty ? "api/\(type.version)" : "apis/\(type.group)/\(type.version)"
                paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(hash(of: openAPIDocument(group: type.group, version: type.version)))")]
            }
            return .ok(["paths": .object(paths)])
        case .openAPIv3(let group, let version):
            let document = openAPIDocument(group: group, version: version)
            guard document["components"]?["schemas"]?.objectValue?.isEmpty == false else {
                throw APIError.notFound(path: "/openapi/v3/\(group.isEmpty ? "api" : "apis/\(group)")/\(version)")
            }
            return .ok(document)
        default:
            // kubectl 1.27 and 1.28 require /openapi/v2 to answer; an empty protobuf document
            // makes them skip client-side validation of kinds it does not describe.
            return .raw(status: 200, contentType: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf", body: Data())
        }
    }

    func openAPIDocument(group: String, version: String) -> JSONValue {
        let types = registry.all.filter { $0.group == group && $0.version == version }
        var schemas: [String: JSONValue] = [:]
        var paths: [String: JSONValue] = [:]
        for type in types {
            let name = definitionName(type)
            var schema: JSONValue = (try? JSONValue(encoding: type.schema ?? JSONSchemaProps.freeform("\(type.kind) object."))) ?? [:]
            schema["x-kubernetes-group-version-kind"] = [["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]]
            schemas[name] = schema
            let base = type.group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
            let collection = type.namespaced ? "\(base)/namespaces/{namespace}/\(type.resource)" : "\(base)/\(type.resource)"
            let parameters: JSONValue = [
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
                ["name": "dryRun", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string", "uniqueItems": true]],
            ]
            let reference: JSONValue = ["$ref": .string("#/components/schemas/\(name)")]
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            func operation(_ action: String, _ body: JSONValue?) -> JSONValue {
                var operation: JSONValue = [
                    "parameters": parameters, "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": reference]]]],
                    "x-kubernetes-action": .string(action), "x-kubernetes-group-version-kind": gvk,
                ]
                if let body { operation["requestBody"] = ["content": body] }
                return operation
            }
            let patchBodies: JSONValue = .object(
                ["application/merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"]
                    .reduce(into: [String: JSONValue]()) { $0[$1] = ["schema": ["type": "object"]] }
                    .merging(type.isCustom ? [:] : ["application/strategic-merge-patch+json": ["schema": ["type": "object"]]]) { first, _ in first })
            paths[collection] = ["post": operation("post", ["application/json": ["schema": reference]]), "get": operation("list", nil)]
            paths["\(collection)/{name}"] = [
                "put": operation("put", ["application/json": ["schema": reference]]),
                "patch": operation("patch", patchBodies),
                "get": operation("get", nil),
                "delete": operation("delete", nil),
            ]
        }
        return [
            "openapi": "3.0.0", "info": ["title": "Kubernetes", "version": .string("v1.\(minorVersion).0")],
            "paths": .object(paths), "components": ["schemas": .object(schemas)],
        ]
    }

    /// `io.k8s.api.apps.v1.Deployment`, or the reversed group for custom resources (`dev.sextant.ml.v1alpha1.Model`).
    private func definitionName(_ type: ResourceType) -> String {
        if type.isCustom { return type.group.split(separator: ".").reversed().joined(separator: ".") + ".\(type.version).\(type.kind)" }
        let group = type.group.isEmpty ? "core" : type.group.split(separator: ".").first.map(String.init) ?? type.group
        return "io.k8s.api.\(group).\(type.version).\(type.kind)"
    }

    private func hash(of document: JSONValue) -> String {
        var value: UInt64 = 0xcbf29ce484222325
        for byte in document.jsonString().utf8 { value = (value ^ UInt64(byte)) &* 0x100000001b3 }
        return String(value, radix: 16, uppercase: true)
    }
}
