/// CEL tokens.
enum CELToken: Equatable {
    case identifier(String)
    case integer(Int64)
    case double(Double)
    case string(String)
    case symbol(String)
}

/// Splits CEL text into tokens.
enum CELLexer {
    static let symbols = ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "(", ")", "[", "]", "{", "}", ".", ",", ":", "?"]

    static func tokens(_ text: String) throws -> [CELToken] {
        var tokens: [CELToken] = []
        let characters = Array(text)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace { index += 1; continue }
            if character.isLetter || character == "_" {
                var end = index
                while end < characters.count, characters[end].isLetter || characters[end].isNumber || characters[end] == "_" { end += 1 }
                tokens.append(.identifier(String(characters[index..<end])))
                index = end
                continue
            }
            if character.isNumber {
                var end = index
                var isDouble = false
                while end < characters.count,
                    characters[end].isNumber || (characters[end] == "." && end + 1 < characters.count && characters[end + 1].isNumber) || characters[end] == "e"
                        || characters[end] == "E"
                {
                    if characters[end] == "." || characters[end] == "e" || characters[end] == "E" { isDouble = true }
                    end += 1
                }
                let literal = String(characters[index..<end])
                if end < characters.count, characters[end] == "u" { end += 1 }
                if isDouble {
                    guard let value = Double(literal) else { throw CELError.syntax("bad number \(literal)") }
                    tokens.append(.double(value))
                } else {
                    guard let value = Int64(literal) else { throw CELError.syntax("bad number \(literal)") }
                    tokens.append(.integer(value))
                }
                index = end
                continue
            }
            if character == "\"" || character == "'" {
                var raw = false
                if let last = tokens.last, case .identifier(let prefix) = last, prefix == "r" || prefix == "R" {
                    tokens.removeLast()
                    raw = true
                }
                var value = ""
                var end = index + 1
                while end < characters.count, characters[end] != character {
                    if characters[end] == "\\", !raw, end + 1 < characters.count {
                        end += 1
                        switch characters[end] {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "\\": value.append("\\")
                        case "'": value.append("'")
                        case "\"": value.append("\"")
                        default:
                            value.append("\\")
                            value.append(characters[end])
                        }
                    } else {
                        value.append(characters[end])
                    }
                    end += 1
                }
                guard end < characters.count else { throw CELError.syntax("unterminated string") }
                tokens.append(.string(value))
                index = end + 1
                continue
            }
            if let symbol = symbols.first(where: { symbol in
                index + symbol.count <= characters.count && String(characters[index..<(index + symbol.count)]) == symbol
            }) {
                tokens.append(.symbol(symbol))
                index += symbol.count
                continue
            }
            throw CELError.syntax("unexpected character '\(character)'")
        }
        return tokens
    }
}

/// A recursive-descent parser with CEL's precedence: ternary, `||`, `&&`, relations and `in`,
/// `+ -`, `* / %`, unary `! -`, then member access, calls and indexing.
struct CELParser {
    let tokens: [CELToken]
    let source: String
    var position = 0

    init(tokens: [CELToken], source: String) {
        self.tokens = tokens
        self.source = source
    }

    mutating func expectEnd() throws {
        guard position == tokens.count else { throw CELError.syntax("unexpected \(describe(tokens[position])) in \"\(source)\"") }
    }

    mutating func parseExpression() throws -> CELExpression {
        let condition = try parseOr()
        if accept("?") {
            let whenTrue = try parseOr()
            try expect(":")
            let whenFalse = try parseExpression()
            return .conditional(condition, whenTrue, whenFalse)
        }
        return condition
    }

    private mutating func parseOr() throws -> CELExpression {
        var left = try parseAnd()
        while accept("||") { left = .binary("||", left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws -> CELExpression {
        var left = try parseRelation()
        while accept("&&") { left = .binary("&&", left, try parseRelation()) }
        return left
    }

    private mutating func parseRelation() throws -> CELExpression {
        var left = try parseAdditive()
        while true {
            if let op = ["==", "!=", "<=", ">=", "<", ">"].first(where: { peekSymbol($0) }) {
                position += 1
                left = .binary(op, left, try parseAdditive())
            } else if case .identifier("in")? = peek() {
                position += 1
                left = .binary("in", left, try parseAdditive())
            } else {
                return left
            }
        }
    }

    private mutating func parseAdditive() throws -> CELExpression {
        var left = try parseMultiplicative()
        while let op = ["+", "-"].first(where: { peekSymbol($0) }) {
            position += 1
            left = .binary(op, left, try parseMultiplicative())
        }
        return left
    }

    private mutating func parseMultiplicative() throws -> CELExpression {
        var left = try parseUnary()
        while let op = ["*", "/", "%"].first(where: { peekSymbol($0) }) {
            position += 1
            left = .binary(op, left, try parseUnary())
        }
        return left
    }

    private mutating func parseUnary() throws -> CELExpression {
        if accept("!") { return .unary("!", try parseUnary()) }
        if accept("-") { return .unary("-", try parseUnary()) }
        return try parseMember()
    }

    private mutating func parseMember() throws -> CELExpression {
        var expression = try parsePrimary()
        while true {
            if accept(".") {
                guard case .identifier(let name)? = next() else { throw CELError.syntax("expected a field name after '.' in \"\(source)\"") }
                if accept("(") {
                    if ["all", "exists", "exists_one", "map", "filter"].contains(name) {
                        guard case .identifier(let variable)? = next() else { throw CELError.syntax("\(name) needs a variable name") }
                        try expect(",")
                        let body = try parseExpression()
                        try expect(")")
                        expression = .comprehension(macro: name, target: expression, variable: variable, body: body)
                    } else {
                        expression = .call(function: name, target: expression, arguments: try parseArguments())
                    }
                } else {
                    expression = .select(expression, name)
                }
            } else if accept("[") {
                let key = try parseExpression()
                try expect("]")
                expression = .index(expression, key)
            } else {
                return expression
            }
        }
    }

    private mutating func parsePrimary() throws -> CELExpression {
        guard let token = next() else { throw CELError.syntax("unexpected end of \"\(source)\"") }
        switch token {
        case .integer(let value): return .literal(.integer(value))
        case .double(let value): return .literal(.number(value))
        case .string(let value): return .literal(.string(value))
        case .identifier("true"): return .literal(.bool(true))
        case .identifier("false"): return .literal(.bool(false))
        case .identifier("null"): return .literal(.null)
        case .identifier("has"):
            try expect("(")
            let argument = try parseExpression()
            try expect(")")
            guard case .select(let target, let field) = argument else { throw CELError.syntax("has() needs a field selection such as has(self.field)") }
            return .has(target, field)
        case .identifier(let name):
            if accept("(") { return .call(function: name, target: nil, arguments: try parseArguments()) }
            return .identifier(name)
        case .symbol("("):
            let inner = try parseExpression()
            try expect(")")
            return inner
        case .symbol("["):
            var items: [CELExpression] = []
            if !accept("]") {
                repeat { items.append(try parseExpression()) } while accept(",")
                try expect("]")
            }
            return .list(items)
        case .symbol("{"):
            var entries: [(CELExpression, CELExpression)] = []
            if !accept("}") {
                repeat {
                    let key = try parseExpression()
                    try expect(":")
                    entries.append((key, try parseExpression()))
                } while accept(",")
                try expect("}")
            }
            return .map(entries)
        default:
            throw CELError.syntax("unexpected \(describe(token)) in \"\(source)\"")
        }
    }

    private mutating func parseArguments() throws -> [CELExpression] {
        var arguments: [CELExpression] = []
        if accept(")") { return arguments }
        repeat { arguments.append(try parseExpression()) } while accept(",")
        try expect(")")
        return arguments
    }

    private func peek() -> CELToken? { position < tokens.count ? tokens[position] : nil }

    private func peekSymbol(_ symbol: String) -> Bool { peek() == .symbol(symbol) }

    private mutating func next() -> CELToken? {
        defer { position += 1 }
        return peek()
    }

    private mutating func accept(_ symbol: String) -> Bool {
        guard peekSymbol(symbol) else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ symbol: String) throws {
        guard accept(symbol) else {
            throw CELError.syntax("expected '\(symbol)' but found \(peek().map(describe) ?? "end") in \"\(source)\"")
        }
    }

    private func describe(_ token: CELToken) -> String {
        switch token {
        case .identifier(let name): "'\(name)'"
        case .integer(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): "'\(value)'"
        case .symbol(let symbol): "'\(symbol)'"
        }
    }
}
