import Foundation
import KubeCore

/// The rewrites and checks every write goes through before it is stored, mirroring the
/// API server's strategies: system metadata, status/spec separation, generation, and for
/// custom resources pruning, defaulting and schema validation.
struct Admission {
    let type: ResourceType

    /// How to treat unknown fields (`fieldValidation`): Strict rejects, Warn warns, Ignore drops silently.
    enum FieldValidation: String {
        case strict = "Strict", warn = "Warn", ignore = "Ignore"
    }

    /// Result of admitting an object: the object to store and warnings for the client.
    struct Admitted {
        var object: JSONValue
        var warnings: [String]
    }

    // MARK: Create

    /// Prepares a new object: identity, timestamps, generation, and a clean status when the
    /// status subresource exists.
    func prepareForCreate(_ input: JSONValue, namespace: String?, fieldValidation: FieldValidation, now: KubeTime) throws -> Admitted {
        var object = try checkTypeMeta(input)
        var metadata = object["metadata"] ?? [:]
        guard metadata.objectValue != nil else { throw APIError.badRequest("metadata must be an object") }
        if type.namespaced {
            let declared = metadata["namespace"]?.stringValue
            if let declared, !declared.isEmpty, let namespace, declared != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            metadata["namespace"] = .string(namespace ?? declared ?? "default")
        } else {
            metadata["namespace"] = nil
        }
        var name = metadata["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty {
            name = prefix + Admission.randomSuffix()
            metadata["name"] = .string(name)
        }
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(now.description)
        metadata["resourceVersion"] = nil
        metadata["deletionTimestamp"] = nil
        metadata["deletionGracePeriodSeconds"] = nil
        if hasGeneration(object) { metadata["generation"] = 1 } else { metadata["generation"] = nil }
        object["metadata"] = metadata
        if type.hasStatus, type.isCustom { object["status"] = nil }
        if !type.isCustom {
            if type.hasStatus && type.resource != "pods" { object["status"] = nil }
            object = BuiltinDefaults.apply(object, type)
        }
        var admitted = try admitCustomResource(object, fieldValidation: fieldValidation)
        try validateMetadata(admitted.object, creating: true)
        try BuiltinValidation.validate(admitted.object, type)
        admitted.object = stampTypeMeta(admitted.object)
        return admitted
    }

    // MARK: Update

    /// Prepares a replacement of `old` through the main resource (`status == false`) or the
    /// status subresource: the other half is kept from `old`, system metadata cannot change,
    /// and the generation moves when the spec does.
    func prepareForUpdate(_ input: JSONValue, old: JSONValue, status: Bool, fieldValidation: FieldValidation) throws -> Admitted {
        var object = try checkTypeMeta(input)
        guard var metadata = object["metadata"], metadata.objectValue != nil else {
            throw APIError.badRequest("metadata must be an object")
        }
        let oldMetadata = old["metadata"] ?? [:]
        let name = oldMetadata["name"]?.stringValue ?? ""
        if let given = metadata["name"]?.stringValue, given != name {
            throw APIError.badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        if let givenUID = metadata["uid"]?.stringValue, !givenUID.isEmpty, givenUID != oldMetadata["uid"]?.stringValue {
            throw APIError.conflict(
                type, name: name, detail: "Precondition failed: UID in precondition: \(givenUID), UID in object meta: \(oldMetadata["uid"]?.stringValue ?? "")")
        }
        for field in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            metadata[field] = oldMetadata[field]
        }
        if status {
            // The status subresource changes status only; metadata changes other than the
            // resourceVersion precondition are ignored, like the real status strategy.
            var kept = old
            kept["status"] = object["status"]
            var keptMetadata = oldMetadata
            keptMetadata["resourceVersion"] = metadata["resourceVersion"]
            kept["metadata"] = keptMetadata
            object = kept
        } else {
            if oldMetadata["deletionTimestamp"] != nil {
                let oldFinalizers = Set(oldMetadata["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                let newFinalizers = Set(metadata["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                if !newFinalizers.isSubset(of: oldFinalizers) {
                    throw APIError.invalid(
                        type, name: name,
                        errors: [
                            FieldError(
                                .forbidden, "metadata.finalizers",
                                "no new finalizers can be added if the object is being deleted, found new finalizers \(newFinalizers.subtracting(oldFinalizers).sorted())"
                            )
                        ])
                }
            }
            object["metadata"] = metadata
            if type.hasStatus { object["status"] = old["status"] }
        }
        var admitted = status ? Admitted(object: object, warnings: []) : try admitCustomResource(object, old: old, fieldValidation: fieldValidation)
        if status, type.isCustom, let schema = type.schema?.properties?["status"], let statusValue = admitted.object["status"] {
            let defaulted = SchemaRewriting.applyDefaults(statusValue, schema: schema)
            let (pruned, _) = SchemaRewriting.prune(defaulted, schema: schema, isRoot: false, path: "status")
            admitted.object["status"] = pruned
            let errors = SchemaValidator.validate(pruned, against: schema, at: "status")
            if !errors.isEmpty { throw APIError.invalid(type, name: name, errors: errors) }
        }
        let annotationsMatter =
            type.group == "apps" && type.resource == "deployments" && old["metadata"]?["annotations"] != admitted.object["metadata"]?["annotations"]
        if hasGeneration(admitted.object), Admission.specChanged(old: old, new: admitted.object) || annotationsMatter {
            let generation = oldMetadata["generation"]?.integerValue ?? 0
            admitted.object["metadata"]?["generation"] = .integer(generation + 1)
        }
        try validateMetadata(admitted.object, creating: false)
        if !status {
            try BuiltinValidation.validate(admitted.object, type)
            try BuiltinValidation.validateUpdate(admitted.object, old: old, type)
        }
        admitted.object = stampTypeMeta(admitted.object)
        return admitted
    }

    // MARK: Custom resources

    /// Prunes unknown fields (or rejects them under Strict), applies defaults and validates
    /// against the CRD's structural schema. Built-in kinds pass through.
    func admitCustomResource(_ object: JSONValue, old: JSONValue? = nil, fieldValidation: FieldValidation) throws -> Admitted {
        guard let schema = type.schema else { return Admitted(object: object, warnings: []) }
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        let (pruned, removed) = SchemaRewriting.prune(object, schema: schema)
        var warnings: [String] = []
        if !removed.isEmpty {
            switch fieldValidation {
            case .strict:
                let errors = removed.map { FieldError(.invalid, $0, "field not declared in schema") }
                throw APIError(
                    code: 400, reason: "BadRequest",
                    message: "\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): strict decoding error: "
                        + removed.map { "unknown field \"\($0)\"" }.joined(separator: ", "),
                    details: APIError.details(
                        type, name: name,
                        causes: errors.map {
                            ["reason": "FieldValueInvalid", "message": .string("unknown field \"\($0.field)\""), "field": .string($0.field.description)]
                        }))
            case .warn:
                warnings += removed.map { "unknown field \"\($0)\"" }
            case .ignore:
                break
            }
        }
        let defaulted = SchemaRewriting.applyDefaults(pruned, schema: schema)
        var errors = SchemaValidator.validate(defaulted, against: schema, at: "")
        errors.removeAll { $0.field.description.hasPrefix("metadata") && $0.field.description != "metadata.name" }
        if errors.isEmpty {
            let cel = CELValidation.validate(defaulted, old: old, schema: schema, path: "")
            errors += cel.errors
            warnings += cel.unsupported.map { "validation rule not evaluated by this server: \($0)" }
        }
        if !errors.isEmpty { throw APIError.invalid(type, name: name, errors: errors) }
        return Admitted(object: defaulted, warnings: warnings)
    }

    // MARK: Checks shared by create and update

    private func checkTypeMeta(_ input: JSONValue) throws -> JSONValue {
        guard input.objectValue != nil else { throw APIError.badRequest("the body must be a JSON object") }
        if let kind = input["kind"]?.stringValue, !kind.isEmpty, kind != type.kind {
            throw APIError.badRequest("the kind in the data (\(kind)) does not match the expected kind (\(type.kind))")
        }
        if let apiVersion = input["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != type.groupVersion {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.groupVersion))")
        }
        return input
    }

    private func stampTypeMeta(_ object: JSONValue) -> JSONValue {
        var stamped = object
        stamped["kind"] = .string(type.kind)
        stamped["apiVersion"] = .string(type.groupVersion)
        return stamped
    }

    private func validateMetadata(_ object: JSONValue, creating: Bool) throws {
        let metadata = object["metadata"] ?? [:]
        let name = metadata["name"]?.stringValue ?? ""
        var errors: [FieldError] = []
        if name.isEmpty {
            errors.append(FieldError(.required, "metadata.name", "name or generateName is required"))
        } else if !NameValidation.isValid(name, for: type) {
            errors.append(FieldError(.invalid, "metadata.name", NameValidation.message(for: type), badValue: .string(name)))
        }
        for (field, map) in [("labels", metadata["labels"]), ("annotations", metadata["annotations"])] {
            guard let map else { continue }
            guard let members = map.objectValue else {
                errors.append(FieldError(.typeInvalid, FieldPath("metadata").child(field), "must be a map of strings", badValue: .string(map.typeName)))
                continue
            }
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                let path = FieldPath("metadata").child(field).key(key)
                if !LabelRules.isQualifiedName(key) {
                    errors.append(
                        FieldError(
                            .invalid, path,
                            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                            badValue: .string(key)))
                }
                guard let text = value.stringValue else {
                    errors.append(FieldError(.typeInvalid, path, "must be a string", badValue: value))
                    continue
                }
                if field == "labels", !LabelRules.isLabelValue(text) {
                    errors.append(
                        FieldError(
                            .invalid, path,
                            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)",
                            badValue: .string(text)))
                }
            }
        }
        if let finalizers = metadata["finalizers"], finalizers.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            errors.append(FieldError(.typeInvalid, "metadata.finalizers", "must be a list of strings"))
        }
        if !errors.isEmpty { throw APIError.invalid(type, name: name, errors: errors) }
    }

    /// Objects with a spec carry a generation (custom resources always do).
    private func hasGeneration(_ object: JSONValue) -> Bool {
        type.isCustom || object["spec"] != nil
    }

    /// Whether anything outside metadata and status differs.
    static func specChanged(old: JSONValue, new: JSONValue) -> Bool {
        var oldRest = old.objectValue ?? [:]
        var newRest = new.objectValue ?? [:]
        for field in ["metadata", "status", "apiVersion", "kind"] {
            oldRest[field] = nil
            newRest[field] = nil
        }
        return oldRest != newRest
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

/// Object name rules per kind.
enum NameValidation {
    static func isValid(_ name: String, for type: ResourceType) -> Bool {
        switch type.resource {
        case "namespaces", "services": LabelRules.isDNSLabel(name)
        default: LabelRules.isDNSSubdomain(name)
        }
    }

    static func message(for type: ResourceType) -> String {
        switch type.resource {
        case "namespaces", "services":
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
        default:
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        }
    }
}
