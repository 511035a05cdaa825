import Foundation
import KubeCore

/// Reads the Kubernetes protobuf bodies that kubectl 1.32 and later send for
/// `kubectl create namespace|configmap|secret|serviceaccount`: the `k8s\0` magic, a
/// `runtime.Unknown` envelope, and the object message. Only these kinds are decoded; other
/// protobuf bodies are refused with 415 and a message naming the JSON media types.
enum ProtobufBodies {
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    static func decode(_ body: Data) throws -> JSONValue {
        let bytes = [UInt8](body)
        guard bytes.starts(with: magic) else { throw unsupported("missing the k8s protobuf magic") }
        let envelope = try Message(bytes[4...])
        let typeMeta = try Message(envelope.bytes(1) ?? [])
        let apiVersion = typeMeta.string(1) ?? ""
        let kind = typeMeta.string(2) ?? ""
        let raw = try Message(envelope.bytes(2) ?? [])
        var object: JSONValue = ["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": try metadata(raw.bytes(1))]
        switch (apiVersion, kind) {
        case ("v1", "Namespace"):
            let spec = try Message(raw.bytes(2) ?? [])
            let finalizers = spec.strings(1)
            if !finalizers.isEmpty { object["spec"] = ["finalizers": .array(finalizers.map(JSONValue.string))] }
        case ("v1", "ConfigMap"):
            let data = try raw.stringMap(2)
            if !data.isEmpty { object["data"] = .object(data.mapValues(JSONValue.string)) }
            let binary = try raw.bytesMap(3)
            if !binary.isEmpty { object["binaryData"] = .object(binary.mapValues { .string(Data($0).base64EncodedString()) }) }
            if let immutable = raw.varint(4) { object["immutable"] = .bool(immutable != 0) }
        case ("v1", "Secret"):
            let data = try raw.bytesMap(2)
            if !data.isEmpty { object["data"] = .object(data.mapValues { .string(Data($0).base64EncodedString()) }) }
            if let type = raw.string(3), !type.isEmpty { object["type"] = .string(type) }
            let stringData = try raw.stringMap(4)
            if !stringData.isEmpty { object["stringData"] = .object(stringData.mapValues(JSONValue.string)) }
            if let immutable = raw.varint(5) { object["immutable"] = .bool(immutable != 0) }
        case ("v1", "ServiceAccount"):
            if let automount = raw.varint(4) { object["automountServiceAccountToken"] = .bool(automount != 0) }
        default:
            throw unsupported(
                "\(apiVersion) \(kind) is not decoded from protobuf by this server; send JSON, e.g. `kubectl create … --dry-run=client -o yaml | kubectl apply -f -`"
            )
        }
        return object
    }

    private static func metadata(_ bytes: [UInt8]?) throws -> JSONValue {
        let message = try Message(bytes ?? [])
        var metadata: JSONValue = [:]
        for (field, number) in [("name", 1), ("generateName", 2), ("namespace", 3)] {
            if let value = message.string(number), !value.isEmpty { metadata[field] = .string(value) }
        }
        let labels = try message.stringMap(11)
        if !labels.isEmpty { metadata["labels"] = .object(labels.mapValues(JSONValue.string)) }
        let annotations = try message.stringMap(12)
        if !annotations.isEmpty { metadata["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        let finalizers = message.strings(14)
        if !finalizers.isEmpty { metadata["finalizers"] = .array(finalizers.map(JSONValue.string)) }
        return metadata
    }

    private static func unsupported(_ why: String) -> APIError {
        APIError(
            code: 415, reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (\(why))")
    }

    /// A decoded protobuf message: field number → values in order (varints or byte strings).
    struct Message {
        enum Value { case varint(UInt64), bytes([UInt8]) }
        var fields: [Int: [Value]] = [:]

        init<C: Collection>(_ data: C) throws where C.Element == UInt8 {
            var bytes = Array(data)[...]
            while !bytes.isEmpty {
                let key = try Self.varint(&bytes)
                let number = Int(key >> 3)
                switch key & 7 {
                case 0: fields[number, default: []].append(.varint(try Self.varint(&bytes)))
                case 2:
                    let length = Int(try Self.varint(&bytes))
                    guard bytes.count >= length else { throw ProtobufBodies.unsupported("truncated protobuf") }
                    fields[number, default: []].append(.bytes(Array(bytes.prefix(length))))
                    bytes = bytes.dropFirst(length)
                case 1: bytes = bytes.dropFirst(8)
                case 5: bytes = bytes.dropFirst(4)
                default: throw ProtobufBodies.unsupported("unsupported protobuf wire type")
                }
            }
        }

        private static func varint(_ bytes: inout ArraySlice<UInt8>) throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                result |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
                if shift > 63 { break }
            }
            throw ProtobufBodies.unsupported("malformed protobuf varint")
        }

        func bytes(_ number: Int) -> [UInt8]? {
            if case .bytes(let value)? = fields[number]?.last { return value }
            return nil
        }

        func string(_ number: Int) -> String? { bytes(number).map { String(decoding: $0, as: UTF8.self) } }

        func strings(_ number: Int) -> [String] {
            (fields[number] ?? []).compactMap { if case .bytes(let value) = $0 { String(decoding: value, as: UTF8.self) } else { nil } }
        }

        func varint(_ number: Int) -> UInt64? {
            if case .varint(let value)? = fields[number]?.last { return value }
            return nil
        }

        func bytesMap(_ number: Int) throws -> [String: [UInt8]] {
            var map: [String: [UInt8]] = [:]
            for case .bytes(let entry) in fields[number] ?? [] {
                let pair = try Message(entry)
                map[pair.string(1) ?? ""] = pair.bytes(2) ?? []
            }
            return map
        }

        func stringMap(_ number: Int) throws -> [String: String] {
            try bytesMap(number).mapValues { String(decoding: $0, as: UTF8.self) }
        }
    }
}
