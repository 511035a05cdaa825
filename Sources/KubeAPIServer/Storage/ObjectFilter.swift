import KubeCore

/// Which objects a list or watch sees: a namespace, a label selector and a field selector.
struct ObjectFilter: Sendable {
    var namespace: String?
    var labels: LabelSelector
    var fields: FieldSelector

    static let everything = ObjectFilter(namespace: nil, labels: .everything, fields: .everything)

    func matches(_ stored: StoredObject, _ type: ResourceType) -> Bool {
        if let namespace, stored.namespace != namespace { return false }
        return labels.matches(stored.labels) && fields.matches(stored, type)
    }
}
