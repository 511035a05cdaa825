/// A test's failure, with a message saying what went wrong.
public struct TestError: Error, CustomStringConvertible {
    public let description: String

    /// A failure saying `description`.
    public init(_ description: String) { self.description = description }
}
