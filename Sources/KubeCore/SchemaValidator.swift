import Foundation
import Synchronization

/// Validates a JSON value against a structural schema the way the API server's OpenAPI
/// validation does: types, enums, bounds, lengths, patterns, required members, list and map
/// constraints. CEL rules (`x-kubernetes-validations`) are not evaluated here; the Swift
/// validation of each kind mirrors them.
public enum SchemaValidator {
    /// Every violation in `value`, reported at paths below `path`.
    public static func validate(_ value: JSONValue, against schema: JSONSchemaProps, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        check(value, schema, path, &errors)
        return errors
    }

    private static func check(_ value: JSONValue, _ schema: JSONSchemaProps, _ path: FieldPath, _ errors: inout [FieldError]) {
        if value == .null {
            if schema.nullable != true && schema.type != nil {
                errors.append(FieldError(.typeInvalid, path, "must be of type \(schema.type!)", badValue: "null"))
            }
            return
        }
        if schema.intOrString == true {
            guard value.integerValue != nil || value.stringValue != nil else {
                errors.append(FieldError(.typeInvalid, path, "must be an integer or a string", badValue: .string(value.typeName)))
                return
            }
        } else if let type = schema.type, !matches(value, type: type) {
            errors.append(FieldError(.typeInvalid, path, "must be of type \(type)", badValue: .string(value.typeName)))
            return
        }
        if let allowed = schema.enum, !allowed.contains(where: { equalValues($0, value) }) {
            let list = allowed.map { $0.jsonString() }.joined(separator: ", ")
            errors.append(FieldError(.notSupported, path, "supported values: \(list)", badValue: value))
        }
        switch value {
        case .integer, .number:
            checkNumber(value.doubleValue!, value, schema, path, &errors)
        case .string(let string):
            checkString(string, schema, path, &errors)
        case .array(let elements):
            checkArray(elements, schema, path, &errors)
        case .object(let members):
            checkObject(members, schema, path, &errors)
        case .null, .bool:
            break
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch type {
        case "object": value.objectValue != nil
        case "array": value.arrayValue != nil
        case "string": value.stringValue != nil
        case "boolean": value.boolValue != nil
        case "integer": value.integerValue != nil
        case "number": value.doubleValue != nil
        default: true
        }
    }

    private static func equalValues(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if let left = lhs.doubleValue, let right = rhs.doubleValue { return left == right }
        return lhs == rhs
    }

    private static func checkNumber(
        _ number: Double, _ value: JSONValue, _ schema: JSONSchemaProps, _ path: FieldPath, _ errors: inout [FieldError]
    ) {
        if let minimum = schema.minimum {
            let exclusive = schema.exclusiveMinimum == true
            if exclusive ? number <= minimum : number < minimum {
                let relation = exclusive ? "greater than" : "greater than or equal to"
                errors.append(FieldError(.invalid, path, "should be \(relation) \(format(minimum))", badValue: value))
            }
        }
        if let maximum = schema.maximum {
            let exclusive = schema.exclusiveMaximum == true
            if exclusive ? number >= maximum : number > maximum {
                let relation = exclusive ? "less than" : "less than or equal to"
                errors.append(FieldError(.invalid, path, "should be \(relation) \(format(maximum))", badValue: value))
            }
        }
        if schema.format == "int32", let integer = value.integerValue, integer < Int64(Int32.min) || integer > Int64(Int32.max) {
            errors.append(FieldError(.invalid, path, "must fit in a 32-bit integer", badValue: value))
        }
    }

    private static func checkString(_ string: String, _ schema: JSONSchemaProps, _ path: FieldPath, _ errors: inout [FieldError]) {
        if let minLength = schema.minLength, string.count < minLength {
            errors.append(FieldError(.invalid, path, "should be at least \(minLength) chars long", badValue: .string(string)))
        }
        if let maxLength = schema.maxLength, string.count > maxLength {
            errors.append(FieldError(.tooLong, path, "may not be longer than \(maxLength)", badValue: .string(string)))
        }
        if let pattern = schema.pattern, !Patterns.matches(string, pattern) {
            errors.append(FieldError(.invalid, path, "should match '\(pattern)'", badValue: .string(string)))
        }
        if schema.format == "date-time", KubeTime(rfc3339: string) == nil {
            errors.append(FieldError(.invalid, path, "must be an RFC 3339 date-time", badValue: .string(string)))
        }
    }

    private static func checkArray(_ elements: [JSONValue], _ schema: JSONSchemaProps, _ path: FieldPath, _ errors: inout [FieldError]) {
        if let minItems = schema.minItems, elements.count < minItems {
            errors.append(FieldError(.invalid, path, "should have at least \(minItems) items", badValue: .integer(Int64(elements.count))))
        }
        if let maxItems = schema.maxItems, elements.count > maxItems {
            errors.append(FieldError(.tooMany, path, "must have at most \(maxItems) items", badValue: .integer(Int64(elements.count))))
        }
        if let items = schema.items {
            for (index, element) in elements.enumerated() { check(element, items, path.index(index), &errors) }
        }
        switch schema.listType {
        case "set":
            for (index, element) in elements.enumerated()
            where elements[..<index].contains(where: { equalValues($0, element) }) {
                errors.append(FieldError(.duplicate, path.index(index), "", badValue: element))
            }
        case "map":
            let keys = schema.listMapKeys ?? []
            for (index, element) in elements.enumerated() {
                let identity = keys.map { element[$0] }
                if elements[..<index].contains(where: { other in keys.map { other[$0] } == identity }) {
                    let shown = JSONValue.object(Dictionary(uniqueKeysWithValues: zip(keys, identity.map { $0 ?? .null })))
                    errors.append(FieldError(.duplicate, path.index(index), "", badValue: shown))
                }
            }
        default:
            break
        }
    }

    private static func checkObject(
        _ members: [String: JSONValue], _ schema: JSONSchemaProps, _ path: FieldPath, _ errors: inout [FieldError]
    ) {
        for name in schema.required ?? [] where members[name] == nil {
            errors.append(FieldError(.required, path.child(name), ""))
        }
        if let minProperties = schema.minProperties, members.count < minProperties {
            errors.append(FieldError(.invalid, path, "should have at least \(minProperties) properties", badValue: .integer(Int64(members.count))))
        }
        if let maxProperties = schema.maxProperties, members.count > maxProperties {
            errors.append(FieldError(.tooMany, path, "must have at most \(maxProperties) properties", badValue: .integer(Int64(members.count))))
        }
        for name in members.keys.sorted() {
            let member = members[name]!
            if let property = schema.properties?[name] {
                check(member, property, path.child(name), &errors)
            } else if case .schema(let valueSchema) = schema.additionalProperties {
                check(member, valueSchema, path.key(name), &errors)
            }
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }
}

/// Compiled regular expressions for schema patterns, shared across validations (and with the
/// Swift validation of the API types, which uses the same patterns).
public enum Patterns {
    private static let cache = Mutex<[String: NSRegularExpression]>([:])

    /// Whether `string` contains a match of the ECMA-262 style `pattern` (unanchored, as JSON Schema says).
    public static func matches(_ string: String, _ pattern: String) -> Bool {
        guard let regex = compiled(pattern) else { return false }
        let range = NSRange(string.startIndex..., in: string)
        return regex.firstMatch(in: string, options: [], range: range) != nil
    }

    /// Whether the pattern compiles.
    static func isValid(_ pattern: String) -> Bool { compiled(pattern) != nil }

    private static func compiled(_ pattern: String) -> NSRegularExpression? {
        if let regex = cache.withLock({ $0[pattern] }) { return regex }
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        cache.withLock { $0[pattern] = regex }
        return regex
    }
}
