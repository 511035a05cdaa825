/// A parsed CEL expression: the subset of the Common Expression Language that CRD validation
/// rules use in practice: literals, `self`/`oldSelf`, field selection and indexing, arithmetic,
/// comparison, logic, the ternary operator, `in`, the macros `has`, `all`, `exists`,
/// `exists_one`, `map` and `filter`, and the string, list and conversion functions of the
/// Kubernetes CEL environment that rules call most (`size`, `matches`, `contains`,
/// `startsWith`, `endsWith`, `isSorted`, `sum`, `min`, `max`, `indexOf`, `lowerAscii`,
/// `upperAscii`, `int`, `double`, `string`).
public indirect enum CELExpression: Sendable, Equatable {
    case literal(JSONValue)
    case identifier(String)
    case select(CELExpression, String)
    case index(CELExpression, CELExpression)
    case call(function: String, target: CELExpression?, arguments: [CELExpression])
    case unary(String, CELExpression)
    case binary(String, CELExpression, CELExpression)
    case conditional(CELExpression, CELExpression, CELExpression)
    case list([CELExpression])
    case map([(CELExpression, CELExpression)])
    /// `has(e.f)`: whether field `f` is present on `e`.
    case has(CELExpression, String)
    /// `target.macro(variable, body)` for all, exists, exists_one, map, filter.
    case comprehension(macro: String, target: CELExpression, variable: String, body: CELExpression)

    public static func == (lhs: CELExpression, rhs: CELExpression) -> Bool {
        String(describing: lhs) == String(describing: rhs)
    }

    /// Parses CEL text; throws `CELError.syntax` with the position of the first problem.
    public init(parsing text: String) throws {
        var parser = CELParser(tokens: try CELLexer.tokens(text), source: text)
        self = try parser.parseExpression()
        try parser.expectEnd()
    }
}

/// Why a CEL expression could not be parsed or evaluated.
public enum CELError: Error, Equatable, CustomStringConvertible {
    case syntax(String)
    case evaluation(String)

    public var description: String {
        switch self {
        case .syntax(let message): "syntax error: \(message)"
        case .evaluation(let message): message
        }
    }
}
