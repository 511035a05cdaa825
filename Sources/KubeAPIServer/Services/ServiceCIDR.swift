/// An IPv4 range Service cluster IPs are allocated from (kube-apiserver's
/// `--service-cluster-ip-range`), e.g. `10.96.0.0/12`.
public struct ServiceCIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address, as a 32-bit number.
    public let network: UInt32
    /// The prefix length, 8…30 (a smaller range leaves no address to hand out after the
    /// network, the `kubernetes` service's and the broadcast address; a larger one is refused
    /// by kube-apiserver too).
    public let prefixLength: Int

    /// The real server's default, `10.96.0.0/12`.
    public static let standard = ServiceCIDR(network: 0x0A60_0000, prefixLength: 12)
    /// The range used with the local runtime, `127.96.0.0/16`: loopback addresses this machine
    /// can listen on without configuration (Linux routes all of 127.0.0.0/8 to `lo`).
    public static let loopback = ServiceCIDR(network: 0x7F60_0000, prefixLength: 16)

    /// Why a range was refused.
    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    private init(network: UInt32, prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Parses `a.b.c.d/n`; the address must be the network address of the range.
    public init(_ text: String) throws(ParseError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = ServiceCIDR.parse(String(parts[0])), let length = Int(parts[1]) else {
            throw ParseError(description: "\(text) is not an IPv4 CIDR such as 10.96.0.0/12")
        }
        guard (8...30).contains(length) else {
            throw ParseError(description: "the prefix length of \(text) must be between 8 and 30")
        }
        let mask = ServiceCIDR.mask(length)
        guard address & mask == address else {
            throw ParseError(description: "\(text) is not a network address (did you mean \(ServiceCIDR.format(address & mask))/\(length)?)")
        }
        self.init(network: address, prefixLength: length)
    }

    /// `10.96.0.0/12`
    public var description: String { "\(ServiceCIDR.format(network))/\(prefixLength)" }

    /// Number of addresses in the range, including the network and broadcast addresses.
    var size: UInt32 { UInt32(1) << UInt32(32 - prefixLength) }

    /// Whether `address` lies in the range.
    func contains(_ address: UInt32) -> Bool { address & ServiceCIDR.mask(prefixLength) == network }

    /// Whether this range lies inside 127.0.0.0/8.
    public var isLoopback: Bool { network >> 24 == 127 }

    /// The address at `offset` from the network address.
    func address(at offset: UInt32) -> UInt32 { network + offset }

    /// The first usable address, which the real server reserves for the `kubernetes` Service.
    var kubernetesServiceAddress: UInt32 { network + 1 }

    private static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    /// Parses a dotted-quad IPv4 address (no leading zeros, as Go's parser since 1.17).
    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), octet.allSatisfy(\.isNumber),
                octet == "0" || !octet.hasPrefix("0"), let number = UInt32(octet), number <= 255
            else { return nil }
            value = value << 8 | number
        }
        return value
    }

    /// `0x0A600001` → `10.96.0.1`
    static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xFF) }.joined(separator: ".")
    }
}
