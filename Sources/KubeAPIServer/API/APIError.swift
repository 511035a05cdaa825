import KubeCore

/// An error answered as a `metav1.Status` object, with the reason, code and message format
/// the real API server uses, so clients (kubectl, client-go, our own client) react the same way.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// HTTP status code.
    public var code: Int
    /// `metav1.StatusReason`, e.g. `NotFound`, `Conflict`, `Invalid`.
    public var reason: String
    /// Human-readable message.
    public var message: String
    /// `details`: the object concerned and field causes.
    public var details: JSONValue?
    /// Seconds a client should wait before retrying (429, 503).
    public var retryAfterSeconds: Int?

    public var description: String { "\(code) \(reason): \(message)" }

    /// The `metav1.Status` body.
    public var status: JSONValue {
        var status: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .integer(Int64(code)),
        ]
        if let details { status["details"] = details }
        return status
    }

    static func details(_ resource: ResourceType?, name: String?, causes: [JSONValue]? = nil) -> JSONValue {
        var details: JSONValue = [:]
        if let name { details["name"] = .string(name) }
        if let resource {
            details["group"] = .string(resource.group)
            details["kind"] = .string(resource.resource)
        }
        if let causes { details["causes"] = .array(causes) }
        return details
    }

    /// `deployments.apps "web" not found`
    public static func notFound(_ resource: ResourceType, name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(resource.qualifiedResource) \"\(name)\" not found", details: details(resource, name: name))
    }

    /// `the server could not find the requested resource`
    public static func notFound(path: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "the server could not find the requested resource",
            details: ["causes": [["reason": "UnexpectedServerResponse", "message": .string("404 page not found: \(path)")]]])
    }

    /// `deployments.apps "web" already exists`
    public static func alreadyExists(_ resource: ResourceType, name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(resource.qualifiedResource) \"\(name)\" already exists", details: details(resource, name: name))
    }

    /// The optimistic-concurrency conflict of a stale update.
    public static func conflict(
        _ resource: ResourceType, name: String, detail: String = "the object has been modified; please apply your changes to the latest version and try again"
    ) -> APIError {
        APIError(
            code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(resource.qualifiedResource) \"\(name)\": \(detail)",
            details: details(resource, name: name))
    }

    /// `Model.ml.sextant.dev "x" is invalid: [spec.a: Invalid value: …, spec.b: Required value]`
    public static func invalid(_ resource: ResourceType, name: String, errors: [FieldError]) -> APIError {
        let qualifiedKind = resource.group.isEmpty ? resource.kind : "\(resource.kind).\(resource.group)"
        let list = errors.map(\.description)
        let joined = list.count == 1 ? list[0] : "[" + list.joined(separator: ", ") + "]"
        let causes: [JSONValue] = errors.map { error in
            [
                "reason": .string(error.kind.rawValue), "message": .string(error.description.dropPrefix("\(error.field): ")),
                "field": .string(error.field.description),
            ]
        }
        var details = details(resource, name: name, causes: causes)
        details["kind"] = .string(resource.kind)
        return APIError(code: 422, reason: "Invalid", message: "\(qualifiedKind) \"\(name)\" is invalid: \(joined)", details: details)
    }

    /// 400 with a message.
    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    /// 405 for a verb the resource does not support.
    public static func methodNotAllowed(_ message: String) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    /// 410 for a resource version or continue token older than the retained history.
    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    /// 415 for a body content type the endpoint cannot read.
    public static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message:
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml; got \(contentType)"
        )
    }

    /// 401 for a request without valid credentials.
    public static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    /// 500 for a bug or an unexpected condition.
    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// 413 for an oversized body.
    public static func tooLarge(_ limit: Int) -> APIError {
        APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is \(limit)")
    }
}

extension String {
    func dropPrefix(_ prefix: String) -> String {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
    }
}
