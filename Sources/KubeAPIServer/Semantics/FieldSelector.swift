import Foundation
import KubeCore

/// A parsed field selector: `metadata.name=web,metadata.namespace!=kube-system`, plus the
/// per-kind fields a resource declares (e.g. `involvedObject.name` for events).
public struct FieldSelector: Sendable {
    struct Requirement: Sendable {
        var field: String
        var value: String
        var negated: Bool
    }

    var requirements: [Requirement]

    /// Selects everything.
    public static let everything = FieldSelector(requirements: [])

    init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses a selector and checks every field is selectable for `type`.
    init(parsing text: String, for type: ResourceType) throws {
        var requirements: [Requirement] = []
        for clause in text.split(separator: ",") {
            let clause = String(clause)
            let (field, value, negated): (String, String, Bool)
            if let range = clause.range(of: "!=") {
                (field, value, negated) = (String(clause[..<range.lowerBound]), String(clause[range.upperBound...]), true)
            } else if let range = clause.range(of: "==") ?? clause.range(of: "=") {
                (field, value, negated) = (String(clause[..<range.lowerBound]), String(clause[range.upperBound...]), false)
            } else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(clause)'")
            }
            let trimmed = field.trimmingCharacters(in: .whitespaces)
            guard ["metadata.name", "metadata.namespace"].contains(trimmed) || type.selectableFields[trimmed] != nil else {
                throw APIError.badRequest("field label not supported: \(trimmed)")
            }
            requirements.append(Requirement(field: trimmed, value: value.trimmingCharacters(in: .whitespaces), negated: negated))
        }
        self.requirements = requirements
    }

    /// The exact name this selector pins, if any (`metadata.name=x`).
    var exactName: String? {
        requirements.first { $0.field == "metadata.name" && !$0.negated }?.value
    }

    func matches(_ stored: StoredObject, _ type: ResourceType) -> Bool {
        requirements.allSatisfy { requirement in
            let actual: String
            switch requirement.field {
            case "metadata.name": actual = stored.name
            case "metadata.namespace": actual = stored.namespace
            default:
                let value = stored.object.value(at: type.selectableFields[requirement.field] ?? [])
                actual = value.map { $0.stringValue ?? $0.jsonString() } ?? ""
            }
            return (actual == requirement.value) != requirement.negated
        }
    }
}
