import Foundation
import KubeCore

/// Serves the verbs of one resource type, in one namespace (or across all).
struct ResourceHandler {
    let server: APIServer
    let type: ResourceType
    /// The namespace in the URL; nil for cluster-scoped resources and all-namespace requests.
    let namespace: String?

    var store: ObjectStore { server.store }
    var admission: Admission { Admission(type: type) }

    /// The namespace a named object lives in: the URL's for namespaced kinds, empty otherwise.
    func objectNamespace(_ request: APIRequest) throws -> String {
        guard type.namespaced else { return "" }
        guard let namespace else {
            throw APIError.notFound(path: request.path)
        }
        return namespace
    }

    /// Reads the current object or answers 404.
    func current(_ name: String, namespace: String) async throws -> StoredObject {
        guard let stored = await store.get(type, namespace: namespace, name: name) else {
            throw APIError.notFound(type, name: name)
        }
        return stored
    }

    func fieldValidation(_ request: APIRequest) throws -> Admission.FieldValidation {
        guard let value = request.query["fieldValidation"], !value.isEmpty else { return .warn }
        guard let mode = Admission.FieldValidation(rawValue: value) else {
            throw APIError.badRequest("fieldValidation must be one of Ignore, Warn or Strict, got \"\(value)\"")
        }
        return mode
    }

    /// Maps a storage refusal onto the API's error.
    func translate(_ error: ObjectStore.WriteError, name: String) -> APIError {
        switch error {
        case .alreadyExists: .alreadyExists(type, name: name)
        case .notFound: .notFound(type, name: name)
        case .conflict: .conflict(type, name: name)
        }
    }

    /// The `metadata.resourceVersion` an update must match, if the client gave one.
    func precondition(_ object: JSONValue) throws -> Int64? {
        guard let text = object["metadata"]?["resourceVersion"]?.stringValue, !text.isEmpty else { return nil }
        guard let revision = Int64(text) else {
            throw APIError.badRequest("invalid resourceVersion \"\(text)\": must be one returned by this server")
        }
        return revision
    }
}
