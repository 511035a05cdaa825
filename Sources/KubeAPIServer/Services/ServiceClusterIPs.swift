import KubeCore

/// The cluster-IP rules of the real Service REST storage and strategy:
///
/// - On create, `ClusterIP`, `NodePort` and `LoadBalancer` Services get `spec.clusterIP` and
///   `spec.clusterIPs` from the allocator (a requested address is honoured when it is in the
///   range and free), `ipFamilies: [IPv4]`, `ipFamilyPolicy: SingleStack` and
///   `internalTrafficPolicy: Cluster`. `clusterIP: None` makes a headless Service (`clusterIPs:
///   [None]`); `ExternalName` Services get no address.
/// - On update, a Service that omits its cluster IP keeps the old one (as `patchAllocatedValues`
///   does, so a PUT or apply without `clusterIP` is no change), and changing it is refused with
///   the real message (`spec.clusterIPs[0]: … may not change once set`). A Service that becomes
///   `ExternalName` gives its address back; one that stops being `ExternalName` gets one.
/// - When a Service is removed from storage its address is released (`APIServer.objectRemoved`).
enum ServiceClusterIPs {
    /// What an admitted write did to the allocator: an address to give back if the write fails,
    /// and one to give back once it has succeeded.
    struct Allocation {
        var allocated: String?
        var released: String?
    }

    /// The address a stored Service holds in the allocator, if any.
    static func heldAddress(_ service: JSONValue) -> String? {
        guard needsAddress(service), let ip = primaryAddress(service), ip != "None", !ip.isEmpty else { return nil }
        return ip
    }

    /// Admits a new Service: defaults and an allocated (or checked) cluster IP.
    static func admitCreate(_ service: JSONValue, allocator: ClusterIPAllocator, dryRun: Bool, kind: ResourceType) throws -> (JSONValue, Allocation) {
        var service = service
        var allocation = Allocation()
        guard needsAddress(service) else { return (service, allocation) }
        let requested = primaryAddress(service) ?? ""
        if requested == "None" {
            service = setting(service, clusterIP: "None")
        } else {
            let ip = try allocate(requested.isEmpty ? nil : requested, service, allocator: allocator, dryRun: dryRun, kind: kind)
            if !dryRun { allocation.allocated = ip }
            service = setting(service, clusterIP: ip)
        }
        return (defaultPolicies(service), allocation)
    }

    /// Re-applies the defaults an update without them would lose, and keeps the old cluster IP
    /// when the new object omits it. Runs before admission, so an omitted address is no change.
    static func carryOver(_ service: JSONValue, old: JSONValue) -> JSONValue {
        guard service["spec"]?.objectValue != nil else { return service }
        var service = service
        let hasAddress =
            !(service.value(at: ["spec", "clusterIP"])?.stringValue ?? "").isEmpty
            || !(service.value(at: ["spec", "clusterIPs"])?.arrayValue ?? []).isEmpty
        if needsAddress(service), needsAddress(old), !hasAddress {
            for field in ["clusterIP", "clusterIPs"] {
                if let value = old.value(at: ["spec", field]) { service = JSONValue.setting(service, ["spec", field], to: value) }
            }
        }
        if service["spec"]?["type"]?.stringValue != "ExternalName" {
            for field in ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] where service.value(at: ["spec", field]) == nil {
                if let value = old.value(at: ["spec", field]) { service = JSONValue.setting(service, ["spec", field], to: value) }
            }
        }
        return service
    }

    /// Checks an admitted update against the stored Service: the primary cluster IP may not
    /// change; an address is allocated or released when the Service's type starts or stops needing one.
    static func admitUpdate(
        _ service: JSONValue, old: JSONValue, allocator: ClusterIPAllocator, dryRun: Bool, kind: ResourceType
    ) throws -> (JSONValue, Allocation) {
        var allocation = Allocation()
        let name = service["metadata"]?["name"]?.stringValue ?? ""
        let oldAddress = needsAddress(old) ? primaryAddress(old) : nil
        guard needsAddress(service) else {
            if let held = heldAddress(old) { allocation.released = held }
            return (service, allocation)
        }
        let newAddress = primaryAddress(service) ?? ""
        if let oldAddress, !oldAddress.isEmpty {
            if newAddress != oldAddress {
                let values: JSONValue = newAddress.isEmpty ? [] : [.string(newAddress)]
                let detail = newAddress.isEmpty ? "primary clusterIP can not be unset" : "may not change once set"
                throw APIError.invalid(kind, name: name, errors: [FieldError(.invalid, FieldPath("spec.clusterIPs").index(0), detail, badValue: values)])
            }
            return (setting(service, clusterIP: newAddress), allocation)
        }
        // It had no address (ExternalName before): it gets one now.
        if newAddress == "None" { return (defaultPolicies(setting(service, clusterIP: "None")), allocation) }
        let ip = try allocate(newAddress.isEmpty ? nil : newAddress, service, allocator: allocator, dryRun: dryRun, kind: kind)
        if !dryRun { allocation.allocated = ip }
        return (defaultPolicies(setting(service, clusterIP: ip)), allocation)
    }

    // MARK: Helpers

    /// Every type but ExternalName has a cluster IP (or is headless).
    private static func needsAddress(_ service: JSONValue) -> Bool {
        (service.value(at: ["spec", "type"])?.stringValue ?? "ClusterIP") != "ExternalName"
    }

    /// `spec.clusterIP`, else the first of `spec.clusterIPs`.
    private static func primaryAddress(_ service: JSONValue) -> String? {
        if let ip = service.value(at: ["spec", "clusterIP"])?.stringValue, !ip.isEmpty { return ip }
        return service.value(at: ["spec", "clusterIPs"])?.arrayValue?.first?.stringValue
    }

    private static func allocate(_ requested: String?, _ service: JSONValue, allocator: ClusterIPAllocator, dryRun: Bool, kind: ResourceType) throws -> String {
        let name = service["metadata"]?["name"]?.stringValue ?? ""
        if let requested, ServiceCIDR.parse(requested) == nil {
            throw APIError.invalid(
                kind, name: name,
                errors: [
                    FieldError(
                        .invalid, FieldPath("spec.clusterIPs").index(0), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
                        badValue: .string(requested))
                ])
        }
        do {
            return try allocator.allocate(requested, dryRun: dryRun)
        } catch .full {
            throw APIError.internalError("failed to allocate a serviceIP: range is full")
        } catch {
            throw APIError.invalid(
                kind, name: name,
                errors: [FieldError(.invalid, "spec.clusterIPs", "failed to allocate IP \(requested ?? ""): \(error)", badValue: [.string(requested ?? "")])])
        }
    }

    private static func setting(_ service: JSONValue, clusterIP: String) -> JSONValue {
        let service = JSONValue.setting(service, ["spec", "clusterIP"], to: .string(clusterIP))
        return JSONValue.setting(service, ["spec", "clusterIPs"], to: [.string(clusterIP)])
    }

    /// The single-stack IPv4 policies the real server fills in.
    private static func defaultPolicies(_ service: JSONValue) -> JSONValue {
        var service = service
        let defaults: [(String, JSONValue)] = [("ipFamilies", ["IPv4"]), ("ipFamilyPolicy", "SingleStack"), ("internalTrafficPolicy", "Cluster")]
        for (field, value) in defaults where service.value(at: ["spec", field]) == nil {
            service = JSONValue.setting(service, ["spec", field], to: value)
        }
        let type = service.value(at: ["spec", "type"])?.stringValue ?? "ClusterIP"
        if type == "NodePort" || type == "LoadBalancer", service.value(at: ["spec", "externalTrafficPolicy"]) == nil {
            service = JSONValue.setting(service, ["spec", "externalTrafficPolicy"], to: "Cluster")
        }
        return service
    }
}
