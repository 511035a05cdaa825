import Foundation
import KubeCore

/// The parts of a V2 inference request body, read in one pass without building the whole JSON
/// tree: tensor `data` is flattened as it is read (the bulk of a request), everything else is
/// kept as JSON values for `TensorCodec.decodeV2` to check in its usual order.
struct V2RequestParts {
    /// One element of `inputs`.
    struct Input {
        /// False when the element is not an object (then nothing else is set).
        var isObject = true
        var name: JSONValue?
        var datatype: JSONValue?
        var shape: JSONValue?
        var parameters: JSONValue?
        /// `data`, flattened: nested arrays become one list of elements in row-major order.
        var data: TensorElements?
    }

    var id: JSONValue?
    var parameters: JSONValue?
    /// nil when `inputs` is missing or not an array.
    var inputs: [Input]?
    var outputs: JSONValue?

    /// Reads a body; throws `InferenceError` 400 for text that is not a JSON object.
    static func read(_ body: [UInt8]) throws -> V2RequestParts {
        try TensorCodec.withJSONErrors(body) {
            var reader = JSONReader(body)
            guard reader.next == .object else {
                _ = try reader.readValue()
                try reader.finish()
                throw InferenceError.badRequest("request body must be a JSON object")
            }
            var parts = V2RequestParts()
            try reader.readObject { name, reader in
                switch name {
                case "id": parts.id = try reader.readValue()
                case "parameters": parts.parameters = try reader.readValue()
                case "outputs": parts.outputs = try reader.readValue()
                case "inputs":
                    guard reader.next == .array else {
                        _ = try reader.readValue()
                        parts.inputs = nil
                        return
                    }
                    var inputs: [Input] = []
                    try reader.readArray { reader in inputs.append(try readInput(&reader)) }
                    parts.inputs = inputs
                default: _ = try reader.readValue()
                }
            }
            try reader.finish()
            return parts
        }
    }

    private static func readInput(_ reader: inout JSONReader) throws -> Input {
        guard reader.next == .object else {
            _ = try reader.readValue()
            return Input(isObject: false)
        }
        var input = Input()
        try reader.readObject { name, reader in
            switch name {
            case "name": input.name = try reader.readValue()
            case "datatype": input.datatype = try reader.readValue()
            case "shape": input.shape = try reader.readValue()
            case "parameters": input.parameters = try reader.readValue()
            case "data": input.data = try readFlattened(&reader)
            default: _ = try reader.readValue()
            }
        }
        return input
    }

    /// `data` as one list of elements: a scalar is one element; an array whose first
    /// element is not an array is kept as it is; otherwise every nested array is flattened.
    /// Arrays of numbers (nearly every request) are read straight into doubles.
    private static func readFlattened(_ reader: inout JSONReader) throws -> TensorElements {
        guard reader.next == .array else { return .values([try reader.readValue()]) }
        if let numbers = reader.readNumberArray() { return .numbers(numbers) }
        var elements: [JSONValue] = []
        var nested: Bool?
        try reader.readArray { reader in
            if nested == nil { nested = reader.next == .array }
            if nested == true {
                try appendLeaves(&reader, to: &elements)
            } else {
                elements.append(try reader.readValue())
            }
        }
        return .values(elements)
    }

    private static func appendLeaves(_ reader: inout JSONReader, to elements: inout [JSONValue]) throws {
        guard reader.next == .array else {
            elements.append(try reader.readValue())
            return
        }
        try reader.readArray { reader in try appendLeaves(&reader, to: &elements) }
    }
}
