import Foundation

/// Evaluates a `CELExpression` over JSON values, with CEL's semantics where rules notice them:
/// `&&`/`||` absorb errors when the other side decides, integers and doubles compare across
/// types, missing fields are errors (guard them with `has`), strings count code points.
public struct CELEvaluator: Sendable {
    /// Functions and methods this evaluator implements.
    public static let functions: Set<String> = [
        "size", "matches", "contains", "startsWith", "endsWith", "lowerAscii", "upperAscii", "trim",
        "isSorted", "sum", "min", "max", "indexOf", "lastIndexOf", "int", "double", "string", "bool",
    ]

    public init() {}

    /// Evaluates with the given variables (`self`, `oldSelf`).
    public func evaluate(_ expression: CELExpression, _ variables: [String: JSONValue]) throws -> JSONValue {
        switch expression {
        case .literal(let value):
            return value
        case .identifier(let name):
            guard let value = variables[name] else { throw CELError.evaluation("undeclared reference to '\(name)'") }
            return value
        case .select(let target, let field):
            let value = try evaluate(target, variables)
            guard let members = value.objectValue else { throw CELError.evaluation("type '\(value.typeName)' does not support field selection") }
            guard let member = members[field] else { throw CELError.evaluation("no such key: \(field)") }
            return member
        case .index(let target, let key):
            let container = try evaluate(target, variables)
            let index = try evaluate(key, variables)
            if let items = container.arrayValue, let position = index.integerValue {
                guard items.indices.contains(Int(position)) else { throw CELError.evaluation("index out of range: \(position)") }
                return items[Int(position)]
            }
            if let members = container.objectValue, let name = index.stringValue {
                guard let member = members[name] else { throw CELError.evaluation("no such key: \(name)") }
                return member
            }
            throw CELError.evaluation("no such overload: \(container.typeName)[\(index.typeName)]")
        case .has(let target, let field):
            let value = try evaluate(target, variables)
            guard let members = value.objectValue else { throw CELError.evaluation("has() on type '\(value.typeName)'") }
            return .bool(members[field] != nil)
        case .unary(let op, let operand):
            let value = try evaluate(operand, variables)
            switch (op, value) {
            case ("!", .bool(let flag)): return .bool(!flag)
            case ("-", .integer(let number)): return .integer(-number)
            case ("-", .number(let number)): return .number(-number)
            default: throw CELError.evaluation("no such overload: \(op)\(value.typeName)")
            }
        case .binary("&&", let left, let right):
            return try logical(left, right, variables, decisive: false)
        case .binary("||", let left, let right):
            return try logical(left, right, variables, decisive: true)
        case .binary(let op, let left, let right):
            return try binary(op, try evaluate(left, variables), try evaluate(right, variables))
        case .conditional(let condition, let whenTrue, let whenFalse):
            guard case .bool(let flag) = try evaluate(condition, variables) else { throw CELError.evaluation("ternary condition must be a bool") }
            return try evaluate(flag ? whenTrue : whenFalse, variables)
        case .list(let items):
            return .array(try items.map { try evaluate($0, variables) })
        case .map(let entries):
            var members: [String: JSONValue] = [:]
            for (key, value) in entries {
                guard let name = try evaluate(key, variables).stringValue else { throw CELError.evaluation("map keys must be strings") }
                members[name] = try evaluate(value, variables)
            }
            return .object(members)
        case .comprehension(let macro, let target, let variable, let body):
            return try comprehension(macro, try evaluate(target, variables), variable, body, variables)
        case .call(let function, let target, let arguments):
            let receiver = try target.map { try evaluate($0, variables) }
            return try call(function, receiver: receiver, arguments: try arguments.map { try evaluate($0, variables) })
        }
    }

    /// Whether a rule holds: it must evaluate to `true`.
    public func holds(_ expression: CELExpression, _ variables: [String: JSONValue]) throws -> Bool {
        guard case .bool(let result) = try evaluate(expression, variables) else {
            throw CELError.evaluation("rule did not evaluate to a bool")
        }
        return result
    }

    // MARK: Operators

    private func logical(_ left: CELExpression, _ right: CELExpression, _ variables: [String: JSONValue], decisive: Bool) throws -> JSONValue {
        var leftError: Error?
        do {
            let value = try evaluate(left, variables)
            guard case .bool(let flag) = value else { throw CELError.evaluation("no such overload: logical operator on \(value.typeName)") }
            if flag == decisive { return .bool(decisive) }
        } catch {
            leftError = error
        }
        let value = try evaluate(right, variables)
        guard case .bool(let flag) = value else { throw CELError.evaluation("no such overload: logical operator on \(value.typeName)") }
        if flag == decisive { return .bool(decisive) }
        if let leftError { throw leftError }
        return .bool(!decisive)
    }

    private func binary(_ op: String, _ left: JSONValue, _ right: JSONValue) throws -> JSONValue {
        switch op {
        case "==": return .bool(Self.equal(left, right))
        case "!=": return .bool(!Self.equal(left, right))
        case "<", "<=", ">", ">=":
            let order = try compare(left, right)
            switch op {
            case "<": return .bool(order < 0)
            case "<=": return .bool(order <= 0)
            case ">": return .bool(order > 0)
            default: return .bool(order >= 0)
            }
        case "in":
            if let items = right.arrayValue { return .bool(items.contains { Self.equal($0, left) }) }
            if let members = right.objectValue, let key = left.stringValue { return .bool(members[key] != nil) }
            throw CELError.evaluation("no such overload: \(left.typeName) in \(right.typeName)")
        case "+":
            switch (left, right) {
            case (.integer(let a), .integer(let b)):
                let (sum, overflow) = a.addingReportingOverflow(b)
                if overflow { throw CELError.evaluation("integer overflow") }
                return .integer(sum)
            case (.string(let a), .string(let b)): return .string(a + b)
            case (.array(let a), .array(let b)): return .array(a + b)
            default: break
            }
        case "-", "*", "/", "%":
            if case .integer(let a) = left, case .integer(let b) = right {
                switch op {
                case "-": return .integer(a &- b)
                case "*": return .integer(a &* b)
                case "/": guard b != 0 else { throw CELError.evaluation("division by zero") }; return .integer(a / b)
                default: guard b != 0 else { throw CELError.evaluation("modulus by zero") }; return .integer(a % b)
                }
            }
        default:
            break
        }
        if case .number = left, let a = left.doubleValue, let b = right.doubleValue, case .number = right {
            switch op {
            case "+": return .number(a + b)
            case "-": return .number(a - b)
            case "*": return .number(a * b)
            case "/": return .number(a / b)
            default: break
            }
        }
        throw CELError.evaluation("no such overload: \(left.typeName) \(op) \(right.typeName)")
    }

    static func equal(_ left: JSONValue, _ right: JSONValue) -> Bool {
        if let a = left.doubleValue, let b = right.doubleValue { return a == b }
        switch (left, right) {
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)): return a.count == b.count && a.allSatisfy { key, value in b[key].map { equal(value, $0) } ?? false }
        default: return left == right
        }
    }

    private func compare(_ left: JSONValue, _ right: JSONValue) throws -> Int {
        if let a = left.doubleValue, let b = right.doubleValue { return a < b ? -1 : (a > b ? 1 : 0) }
        if let a = left.stringValue, let b = right.stringValue { return a < b ? -1 : (a > b ? 1 : 0) }
        if case .bool(let a) = left, case .bool(let b) = right { return a == b ? 0 : (!a ? -1 : 1) }
        throw CELError.evaluation("no such overload: \(left.typeName) < \(right.typeName)")
    }

    // MARK: Macros

    private func comprehension(
        _ macro: String, _ target: JSONValue, _ variable: String, _ body: CELExpression, _ variables: [String: JSONValue]
    ) throws -> JSONValue {
        let elements: [JSONValue]
        if let items = target.arrayValue {
            elements = items
        } else if let members = target.objectValue {
            elements = members.keys.sorted().map(JSONValue.string)
        } else {
            throw CELError.evaluation("\(macro)() on type '\(target.typeName)'")
        }
        var scope = variables
        func predicate(_ element: JSONValue) throws -> Bool {
            scope[variable] = element
            guard case .bool(let flag) = try evaluate(body, scope) else { throw CELError.evaluation("\(macro)() predicate must be a bool") }
            return flag
        }
        switch macro {
        case "all":
            var firstError: Error?
            for element in elements {
                do { if try !predicate(element) { return false } } catch { firstError = firstError ?? error }
            }
            if let firstError { throw firstError }
            return true
        case "exists":
            var firstError: Error?
            for element in elements {
                do { if try predicate(element) { return true } } catch { firstError = firstError ?? error }
            }
            if let firstError { throw firstError }
            return false
        case "exists_one":
            return .bool(try elements.filter(predicate).count == 1)
        case "filter":
            return .array(try elements.filter(predicate))
        default:
            return .array(
                try elements.map { element in
                    scope[variable] = element
                    return try evaluate(body, scope)
                })
        }
    }

    // MARK: Functions

    private func call(_ function: String, receiver: JSONValue?, arguments: [JSONValue]) throws -> JSONValue {
        let subject = receiver ?? arguments.first ?? .null
        let rest = receiver == nil ? Array(arguments.dropFirst()) : arguments
        switch (function, subject) {
        case ("size", .string(let text)): return .integer(Int64(text.unicodeScalars.count))
        case ("size", .array(let items)): return .integer(Int64(items.count))
        case ("size", .object(let members)): return .integer(Int64(members.count))
        case ("matches", .string(let text)):
            guard let pattern = rest.first?.stringValue else { break }
            guard let regex = try? NSRegularExpression(pattern: pattern) else { throw CELError.evaluation("invalid regular expression \(pattern)") }
            return .bool(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil)
        case ("contains", .string(let text)):
            guard let part = rest.first?.stringValue else { break }
            return .bool(part.isEmpty || text.contains(part))
        case ("startsWith", .string(let text)):
            guard let part = rest.first?.stringValue else { break }
            return .bool(text.hasPrefix(part))
        case ("endsWith", .string(let text)):
            guard let part = rest.first?.stringValue else { break }
            return .bool(text.hasSuffix(part))
        case ("lowerAscii", .string(let text)): return .string(text.lowercased())
        case ("upperAscii", .string(let text)): return .string(text.uppercased())
        case ("trim", .string(let text)): return .string(text.trimmingCharacters(in: .whitespaces))
        case ("isSorted", .array(let items)):
            for (a, b) in zip(items, items.dropFirst()) where try compare(a, b) > 0 { return false }
            return true
        case ("sum", .array(let items)):
            return try items.reduce(JSONValue.integer(0)) { try binary("+", $0, $1) }
        case ("min", .array(let items)), ("max", .array(let items)):
            guard var best = items.first else { throw CELError.evaluation("\(function)() of an empty list") }
            for item in items.dropFirst() where try compare(item, best) * (function == "min" ? -1 : 1) > 0 { best = item }
            return best
        case ("indexOf", .array(let items)):
            guard let wanted = rest.first else { break }
            return .integer(Int64(items.firstIndex { Self.equal($0, wanted) } ?? -1))
        case ("lastIndexOf", .array(let items)):
            guard let wanted = rest.first else { break }
            return .integer(Int64(items.lastIndex { Self.equal($0, wanted) } ?? -1))
        case ("int", let value):
            if let integer = value.integerValue { return .integer(integer) }
            if let number = value.doubleValue { return .integer(Int64(number)) }
            if let text = value.stringValue, let integer = Int64(text) { return .integer(integer) }
        case ("double", let value):
            if let number = value.doubleValue { return .number(number) }
            if let text = value.stringValue, let number = Double(text) { return .number(number) }
        case ("string", let value):
            return .string(value.stringValue ?? value.jsonString())
        case ("bool", .string(let text)):
            if text == "true" { return true }
            if text == "false" { return false }
        default:
            break
        }
        if !Self.functions.contains(function) { throw CELError.evaluation("unsupported function '\(function)'") }
        throw CELError.evaluation("no such overload: \(function)(\(subject.typeName))")
    }
}

extension CELExpression {
    /// Functions the expression calls that the evaluator does not implement.
    public var unsupportedFunctions: [String] {
        switch self {
        case .literal, .identifier: return []
        case .select(let target, _), .has(let target, _): return target.unsupportedFunctions
        case .index(let a, let b), .binary(_, let a, let b): return a.unsupportedFunctions + b.unsupportedFunctions
        case .unary(_, let operand): return operand.unsupportedFunctions
        case .conditional(let a, let b, let c): return a.unsupportedFunctions + b.unsupportedFunctions + c.unsupportedFunctions
        case .list(let items): return items.flatMap(\.unsupportedFunctions)
        case .map(let entries): return entries.flatMap { $0.0.unsupportedFunctions + $0.1.unsupportedFunctions }
        case .comprehension(_, let target, _, let body): return target.unsupportedFunctions + body.unsupportedFunctions
        case .call(let function, let target, let arguments):
            let own = CELEvaluator.functions.contains(function) ? [] : [function]
            return own + (target?.unsupportedFunctions ?? []) + arguments.flatMap(\.unsupportedFunctions)
        }
    }
}
