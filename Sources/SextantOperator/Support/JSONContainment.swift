import KubeCore

extension JSONValue {
    /// Whether every field set in `desired` has the same value here; fields only this value
    /// has (server defaults, other managers' fields, status) are ignored. Arrays must have the
    /// same length and contain element-wise. A reconcile uses this to skip a write that would
    /// change nothing, which keeps an idle operator from writing at all.
    public func contains(_ desired: JSONValue) -> Bool {
        switch (self, desired) {
        case (.object(let actual), .object(let wanted)):
            return wanted.allSatisfy { key, value in
                if case .null = value { return actual[key] == nil || actual[key] == .null }
                guard let present = actual[key] else { return false }
                return present.contains(value)
            }
        case (.array(let actual), .array(let wanted)):
            return actual.count == wanted.count && zip(actual, wanted).allSatisfy { $0.contains($1) }
        case (.integer(let a), .number(let b)): return Double(a) == b
        case (.number(let a), .integer(let b)): return a == Double(b)
        default:
            return self == desired
        }
    }
}
