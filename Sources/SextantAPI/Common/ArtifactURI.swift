import KubeCore

/// Rules for artifact, baseline and data set locations, and content digests.
public enum ArtifactURI {
    /// `s3://bucket/key`, `http(s)://host[/path]`, `pvc://claim/path` or `file:///absolute/path`.
    public static let pattern =
        "^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\\s]+|https?://[^/\\s]+(/[^\\s]*)?|pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/[^\\s]+|file:///[^\\s]*)$"
    /// Any `scheme://…` URI: data sets live in many systems (object stores, warehouses,
    /// generators), and the operator never reads them.
    public static let datasetPattern = "^[a-z][a-z0-9+.-]*://[^\\s]+$"
    /// `sha256:` followed by 64 lower-case hexadecimal digits.
    public static let digestPattern = "^sha256:[a-f0-9]{64}$"
    /// Longest URI accepted.
    public static let maxLength = 2048

    /// Checks a location field.
    static func check(_ uri: String, _ path: FieldPath) -> [FieldError] {
        guard !uri.isEmpty else { return [FieldError(.required, path, "")] }
        guard uri.count <= maxLength, NameRules.matches(uri, pattern) else {
            return [
                FieldError(.invalid, path, "must be s3://bucket/key, http(s)://host/path, pvc://claim/path or file:///absolute/path", badValue: .string(uri))
            ]
        }
        return []
    }

    /// Checks a data set location.
    static func checkDataset(_ uri: String, _ path: FieldPath) -> [FieldError] {
        guard !uri.isEmpty else { return [FieldError(.required, path, "")] }
        guard uri.count <= maxLength, NameRules.matches(uri, datasetPattern) else {
            return [FieldError(.invalid, path, "must be a URI of the form scheme://location", badValue: .string(uri))]
        }
        return []
    }

    static func datasetSchema(_ description: String) -> JSONSchemaProps {
        .string(description, pattern: datasetPattern, minLength: 1, maxLength: maxLength)
    }

    /// Checks a digest field.
    static func checkDigest(_ digest: String, _ path: FieldPath) -> [FieldError] {
        guard !digest.isEmpty else { return [FieldError(.required, path, "")] }
        guard NameRules.matches(digest, digestPattern) else {
            return [FieldError(.invalid, path, "must be sha256: followed by 64 lower-case hex digits", badValue: .string(digest))]
        }
        return []
    }

    static func schema(_ description: String) -> JSONSchemaProps {
        .string(description, pattern: pattern, minLength: 1, maxLength: maxLength)
    }

    static func digestSchema(_ description: String) -> JSONSchemaProps {
        .string(description, pattern: digestPattern)
    }
}
