import Synchronization

/// Hands out Service cluster IPs from the service CIDR, as kube-apiserver's IP allocator does:
/// a random free address, or a requested one when it is inside the range and free. The network
/// and broadcast addresses are never handed out, and the first address is reserved for the
/// `kubernetes` Service.
///
/// The set of allocated addresses is the truth for this server (it has no persistence): an
/// address is added when a Service is created with it and removed when that Service is removed
/// from storage, whichever path removes it (`APIServer.objectRemoved`).
final class ClusterIPAllocator: Sendable {
    /// Why an address could not be allocated; `description` is the real allocator's message.
    enum Failure: Error, CustomStringConvertible {
        case notInRange(String, ServiceCIDR)
        case alreadyAllocated
        case full

        var description: String {
            switch self {
            case .notInRange(let ip, let range): "the provided IP (\(ip)) is not in the valid range. The range of valid IPs is \(range)"
            case .alreadyAllocated: "provided IP is already allocated"
            case .full: "range is full"
            }
        }
    }

    let range: ServiceCIDR
    private let allocated = Mutex<Set<UInt32>>([])

    init(range: ServiceCIDR) {
        self.range = range
    }

    /// Allocates `requested`, or a random free address when nil. With `dryRun` the address is
    /// checked and returned but not taken.
    func allocate(_ requested: String?, dryRun: Bool = false) throws(Failure) -> String {
        let range = self.range
        let result: Result<UInt32, Failure> = allocated.withLock { taken in
            if let requested {
                guard let address = ServiceCIDR.parse(requested), range.contains(address),
                    address != range.network, address != range.address(at: range.size - 1)
                else { return .failure(.notInRange(requested, range)) }
                guard address != range.kubernetesServiceAddress, !taken.contains(address) else { return .failure(.alreadyAllocated) }
                if !dryRun { taken.insert(address) }
                return .success(address)
            }
            // Offsets 2 … size-2: skips the network address, the kubernetes Service's and the broadcast address.
            let usable = Int(range.size) - 3
            guard taken.count < usable else { return .failure(.full) }
            // A random start, then the next free address (one exists: the range is not full).
            var offset = UInt32.random(in: 2...(range.size - 2))
            while taken.contains(range.address(at: offset)) {
                offset = offset == range.size - 2 ? 2 : offset + 1
            }
            let address = range.address(at: offset)
            if !dryRun { taken.insert(address) }
            return .success(address)
        }
        return ServiceCIDR.format(try result.get())
    }

    /// Returns an address to the pool (unknown or foreign addresses are ignored).
    func release(_ ip: String) {
        guard let address = ServiceCIDR.parse(ip) else { return }
        _ = allocated.withLock { $0.remove(address) }
    }

    /// Whether an address is currently allocated (for tests).
    func isAllocated(_ ip: String) -> Bool {
        guard let address = ServiceCIDR.parse(ip) else { return false }
        return allocated.withLock { $0.contains(address) }
    }
}
