import Foundation

/// A parsed label selector in the query syntax: `app=web,tier!=db,env in (a,b),!legacy,track`.
public struct LabelSelector: Sendable, Equatable {
    /// One requirement.
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
        case greaterThan(String, Int)
        case lessThan(String, Int)

        func matches(_ labels: [String: String]) -> Bool {
            switch self {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .in(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            case .greaterThan(let key, let bound): labels[key].flatMap { Int($0) }.map { $0 > bound } ?? false
            case .lessThan(let key, let bound): labels[key].flatMap { Int($0) }.map { $0 < bound } ?? false
            }
        }
    }

    public var requirements: [Requirement]

    /// Selects everything.
    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Whether all requirements hold.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(labels) }
    }

    /// Parses the query syntax; throws a 400 explaining the first problem.
    public init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for part in LabelSelector.splitTopLevel(text) {
            let clause = part.trimmingCharacters(in: .whitespaces)
            if clause.isEmpty { continue }
            requirements.append(try LabelSelector.requirement(clause, in: text))
        }
        self.requirements = requirements
    }

    private static func requirement(_ clause: String, in text: String) throws -> Requirement {
        func fail(_ why: String) -> APIError {
            .badRequest("unable to parse requirement: \(why) in label selector \"\(text)\"")
        }
        if clause.hasPrefix("!") {
            let key = clause.dropFirst().trimmingCharacters(in: .whitespaces)
            try checkKey(key, fail)
            return .doesNotExist(key)
        }
        for (op, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] as [(String, (String, String) -> Requirement)]
        {
            if let range = clause.range(of: op) {
                let key = clause[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = clause[range.upperBound...].trimmingCharacters(in: .whitespaces)
                try checkKey(key, fail)
                try checkValue(value, fail)
                return make(key, value)
            }
        }
        for (op, isGreater) in [(">", true), ("<", false)] {
            if let range = clause.range(of: op) {
                let key = clause[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = clause[range.upperBound...].trimmingCharacters(in: .whitespaces)
                try checkKey(key, fail)
                guard let bound = Int(value) else { throw fail("for 'gt', 'lt' operators, the value must be an integer") }
                return isGreater ? .greaterThan(key, bound) : .lessThan(key, bound)
            }
        }
        let words = clause.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let key = words[0]
            var rest = words[1].trimmingCharacters(in: .whitespaces)
            let isNotIn = rest.hasPrefix("notin")
            guard isNotIn || rest.hasPrefix("in") else { throw fail("found '\(rest)', expected: in, notin, =, ==, !=, gt, lt") }
            rest = String(rest.dropFirst(isNotIn ? 5 : 2)).trimmingCharacters(in: .whitespaces)
            guard rest.hasPrefix("("), rest.hasSuffix(")") else { throw fail("found '\(rest)', expected: '('") }
            let values = rest.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            try checkKey(key, fail)
            for value in values { try checkValue(value, fail) }
            return isNotIn ? .notIn(key, Set(values)) : .in(key, Set(values))
        }
        try checkKey(clause, fail)
        return .exists(clause)
    }

    private static func checkKey(_ key: String, _ fail: (String) -> APIError) throws {
        guard LabelRules.isQualifiedName(key) else { throw fail("invalid label key \"\(key)\"") }
    }

    private static func checkValue(_ value: String, _ fail: (String) -> APIError) throws {
        guard LabelRules.isLabelValue(value) else { throw fail("invalid label value: \"\(value)\"") }
    }

    /// Splits on commas that are not inside parentheses.
    private static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts
    }
}

/// Kubernetes label key and value rules, checked character by character (these run on every
/// write, so no regular expressions).
enum LabelRules {
    /// `prefix/name` with a DNS subdomain prefix and a 63-character name.
    static func isQualifiedName(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last else { return false }
        if parts.count == 2 {
            guard !parts[0].isEmpty, parts[0].utf8.count <= 253, isDNSSubdomain(parts[0]) else { return false }
        }
        return !name.isEmpty && name.utf8.count <= 63 && isLabelValue(name)
    }

    /// Empty, or up to 63 alphanumerics, '-', '_', '.' starting and ending alphanumeric.
    static func isLabelValue<S: StringProtocol>(_ value: S) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return true }
        guard bytes.count <= 63, isAlphanumeric(bytes.first!), isAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A lower-case RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
    static func isDNSLabel<S: StringProtocol>(_ name: S) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63, isLowerAlphanumeric(bytes.first!), isLowerAlphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// A lower-case RFC 1123 subdomain: dot-separated labels, at most 253 characters.
    static func isDNSSubdomain<S: StringProtocol>(_ name: S) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel($0) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
