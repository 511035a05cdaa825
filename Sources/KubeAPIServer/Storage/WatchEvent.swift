import KubeCore

/// One event of a watch stream (`metav1.WatchEvent`).
public struct WatchEvent: Sendable {
    /// The event types a watch delivers.
    public enum EventType: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }

    public var type: EventType
    public var object: JSONValue
    /// The object's JSON, when it was serialized once for every watcher of a change.
    var encodedObject: [UInt8]?

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    init(type: EventType, object: JSONValue, encodedObject: [UInt8]?) {
        self.type = type
        self.object = object
        self.encodedObject = encodedObject
    }

    /// The event as one line of a watch response, reusing the shared serialization if present.
    var line: [UInt8] {
        var bytes = Array(#"{"type":""#.utf8)
        bytes.append(contentsOf: type.rawValue.utf8)
        bytes.append(contentsOf: #"","object":"#.utf8)
        if let encodedObject { bytes.append(contentsOf: encodedObject) } else { object.write(into: &bytes, sortedKeys: false) }
        bytes.append(contentsOf: "}\n".utf8)
        return bytes
    }
}

/// A change recorded in the store's history, replayed to watches that resume from an older revision.
struct Change: Sendable {
    let revision: Int64
    let key: ResourceKey
    /// The object before the change (nil for a creation).
    let old: StoredObject?
    /// The object after the change (for a deletion, the last state).
    let new: StoredObject
    let deleted: Bool
}

/// An object at rest, with the fields selectors need already extracted.
struct StoredObject: Sendable {
    var object: JSONValue
    var revision: Int64
    var namespace: String
    var name: String

    var labels: [String: String] {
        guard let members = object["metadata"]?["labels"]?.objectValue else { return [:] }
        return members.compactMapValues(\.stringValue)
    }
}
