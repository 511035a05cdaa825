import Synchronization

/// Evaluates the `x-kubernetes-validations` rules of a schema over a value, as the API server
/// does at admission. Transition rules (those using `oldSelf`) run only on updates, where the
/// old value at the same place exists; list items are correlated with their old selves only
/// for `x-kubernetes-list-type: map` lists, as in Kubernetes.
public enum CELValidation {
    /// Errors for rules that evaluated to false or failed, and rules that could not be evaluated.
    public struct Outcome: Sendable {
        public var errors: [FieldError] = []
        /// Rules skipped because they call functions this evaluator does not implement.
        public var unsupported: [String] = []
    }

    private static let cache = Mutex<[String: Result<CELExpression, CELError>]>([:])

    /// Parses a rule, remembering the result.
    public static func compile(_ rule: String) -> Result<CELExpression, CELError> {
        if let cached = cache.withLock({ $0[rule] }) { return cached }
        let result: Result<CELExpression, CELError>
        do {
            result = .success(try CELExpression(parsing: rule))
        } catch let error as CELError {
            result = .failure(error)
        } catch {
            result = .failure(.syntax("\(error)"))
        }
        cache.withLock { $0[rule] = result }
        return result
    }

    /// Checks every rule in `schema` against `value` (and `old` for transition rules).
    public static func validate(_ value: JSONValue, old: JSONValue?, schema: JSONSchemaProps, path: FieldPath) -> Outcome {
        var outcome = Outcome()
        walk(value, old, schema, path, &outcome)
        return outcome
    }

    private static func walk(_ value: JSONValue, _ old: JSONValue?, _ schema: JSONSchemaProps, _ path: FieldPath, _ outcome: inout Outcome) {
        for rule in schema.validations ?? [] {
            check(rule, value, old, path, &outcome)
        }
        switch value {
        case .object(let members):
            for (name, member) in members {
                if let property = schema.properties?[name] {
                    walk(member, old?[name], property, path.child(name), &outcome)
                } else if case .schema(let valueSchema) = schema.additionalProperties {
                    walk(member, old?[name], valueSchema, path.key(name), &outcome)
                }
            }
        case .array(let items):
            guard let itemSchema = schema.items else { return }
            for (index, item) in items.enumerated() {
                var oldItem: JSONValue?
                if schema.listType == "map", let keys = schema.listMapKeys, let oldItems = old?.arrayValue {
                    oldItem = oldItems.first { candidate in keys.allSatisfy { candidate[$0] == item[$0] } }
                }
                walk(item, oldItem, itemSchema, path.index(index), &outcome)
            }
        default:
            break
        }
    }

    private static func check(_ rule: ValidationRule, _ value: JSONValue, _ old: JSONValue?, _ path: FieldPath, _ outcome: inout Outcome) {
        if rule.isTransitionRule && old == nil { return }
        var field = path
        if let fieldPath = rule.fieldPath, !fieldPath.isEmpty {
            for part in fieldPath.split(separator: ".") { field = field.child(String(part)) }
        }
        let expression: CELExpression
        switch compile(rule.rule) {
        case .success(let compiled): expression = compiled
        case .failure(let error):
            outcome.errors.append(FieldError(.invalid, field, "compilation failed: \(error)", badValue: .string(value.typeName)))
            return
        }
        let missing = expression.unsupportedFunctions
        if !missing.isEmpty {
            outcome.unsupported.append("\(path): \(rule.rule) (uses \(missing.joined(separator: ", ")))")
            return
        }
        var variables: [String: JSONValue] = ["self": value]
        if let old { variables["oldSelf"] = old }
        let kind = FieldError.Kind(rawValue: rule.reason ?? "") ?? .invalid
        do {
            if try !CELEvaluator().holds(expression, variables) {
                outcome.errors.append(FieldError(kind, field, rule.message ?? "failed rule: \(rule.rule)", badValue: .string(value.typeName)))
            }
        } catch {
            outcome.errors.append(FieldError(.invalid, field, "rule evaluation error: \(rule.rule): \(error)", badValue: .string(value.typeName)))
        }
    }
}
