import Foundation
import KubeCore

/// Name rules shared by the Swift validation and the CRD schemas, so both say the same thing.
public enum NameRules {
    /// A DNS-1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric.
    public static let dns1123LabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    /// A DNS-1035 label (Service names): like a DNS-1123 label but starting with a letter.
    public static let dns1035LabelPattern = "^[a-z]([-a-z0-9]*[a-z0-9])?$"
    /// Longest DNS label.
    public static let dnsLabelMaxLength = 63
    /// Longest InferenceService name: it is the prefix of per-version Deployment and Service
    /// names (`<name>-v<version>`, `<name>-router`), which must stay valid DNS-1035 labels.
    public static let inferenceServiceNameMaxLength = 45

    /// Whether `name` is a DNS-1123 label (at most 63 characters).
    public static func isDNS1123Label(_ name: String) -> Bool {
        name.count <= dnsLabelMaxLength && matches(name, dns1123LabelPattern)
    }

    /// Whether `name` is a DNS-1035 label no longer than `maxLength`.
    public static func isDNS1035Label(_ name: String, maxLength: Int = dnsLabelMaxLength) -> Bool {
        name.count <= maxLength && matches(name, dns1035LabelPattern)
    }

    /// Checks an object reference field holding a DNS-1123 label.
    static func checkLabelReference(_ name: String, _ path: FieldPath) -> [FieldError] {
        guard !name.isEmpty else { return [FieldError(.required, path, "")] }
        guard isDNS1123Label(name) else {
            return [FieldError(.invalid, path, "must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters", badValue: .string(name))]
        }
        return []
    }

    static func matches(_ string: String, _ pattern: String) -> Bool {
        Patterns.matches(string, pattern)
    }
}

/// Durations are written as Go-style strings throughout the API: `30s`, `5m`, `1h30m`, `250ms`.
public enum DurationString {
    /// The schema pattern for duration fields.
    public static let pattern = "^([0-9]+(ms|s|m|h))+$"

    /// The duration in seconds, or `nil` when the text is not a duration.
    public static func seconds(_ text: String) -> Double? {
        guard NameRules.matches(text, pattern) else { return nil }
        var total = 0.0
        var number = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isNumber {
                number.append(character)
                index = text.index(after: index)
                continue
            }
            let unitEnd = text[index...].firstIndex(where: \.isNumber) ?? text.endIndex
            let unit = text[index..<unitEnd]
            let value = Double(number) ?? 0
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
            number = ""
            index = unitEnd
        }
        return total
    }

    /// Checks an optional duration field, requiring at least `minimumSeconds`.
    static func check(_ text: String?, _ path: FieldPath, minimumSeconds: Double = 0) -> [FieldError] {
        guard let text else { return [] }
        guard let seconds = seconds(text) else {
            return [FieldError(.invalid, path, "must be a duration such as 30s, 5m or 1h30m", badValue: .string(text))]
        }
        if seconds < minimumSeconds {
            return [FieldError(.invalid, path, "must be at least \(Int(minimumSeconds))s", badValue: .string(text))]
        }
        return []
    }

    /// The schema of a duration field.
    static func schema(_ description: String) -> JSONSchemaProps {
        .string(description + " A duration such as 30s, 5m or 1h30m.", pattern: pattern)
    }
}

/// Names of training and analysis metrics: `accuracy`, `auc`, `f1_macro`, `rmse`.
public enum MetricNames {
    /// The schema pattern for metric names.
    public static let pattern = "^[A-Za-z][A-Za-z0-9_.-]*$"
    /// Longest metric name.
    public static let maxLength = 63

    /// Checks one metric name.
    static func check(_ name: String, _ path: FieldPath) -> [FieldError] {
        guard !name.isEmpty else { return [FieldError(.required, path, "")] }
        guard name.count <= maxLength, NameRules.matches(name, pattern) else {
            return [
                FieldError(.invalid, path, "must start with a letter and contain only letters, digits, '_', '.' and '-' (at most 63)", badValue: .string(name))
            ]
        }
        return []
    }

    /// The schema of a metric name field.
    static func schema(_ description: String) -> JSONSchemaProps {
        .string(description, pattern: pattern, minLength: 1, maxLength: maxLength)
    }
}
