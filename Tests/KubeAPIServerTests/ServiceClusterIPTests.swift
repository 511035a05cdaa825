import Foundation
import KubeCore
import Testing

@testable import KubeAPIServer

/// Service cluster IPs: allocation from the service CIDR, the real defaults, immutability, and
/// release on deletion.
@Suite("Services: cluster IP allocation and defaults")
struct ServiceClusterIPTests {
    static func service(_ name: String, clusterIP: String? = nil, type: String? = nil) -> JSONValue {
        var spec: JSONValue = ["selector": ["app": .string(name)], "ports": [["name": "http", "port": 8080]]]
        if let clusterIP { spec["clusterIP"] = .string(clusterIP) }
        if let type { spec["type"] = .string(type) }
        return ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name)], "spec": spec]
    }

    @Test("a Service gets a cluster IP from 10.96.0.0/12 and the real defaults; headless and ExternalName get none")
    func allocatesWithDefaults() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("svc-defaults")
        let created = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/services", body: Self.service("web"))
        #expect(created.status == 201, "\(created.text)")
        let spec = try #require(created.body["spec"])
        let ip = try #require(spec["clusterIP"]?.stringValue)
        let address = try #require(ServiceCIDR.parse(ip))
        #expect(
            ServiceCIDR.standard.contains(address) && address != ServiceCIDR.standard.network && address != ServiceCIDR.standard.kubernetesServiceAddress,
            "\(ip)")
        #expect(spec["clusterIPs"] == [.string(ip)])
        #expect(spec["type"] == "ClusterIP")
        #expect(spec["ports"]?.arrayValue?.first?["protocol"] == "TCP")
        #expect(spec["ports"]?.arrayValue?.first?["targetPort"] == 8080)
        #expect(spec["ipFamilies"] == ["IPv4"] && spec["ipFamilyPolicy"] == "SingleStack" && spec["internalTrafficPolicy"] == "Cluster")

        let headless = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/services", body: Self.service("headless", clusterIP: "None"))
        #expect(headless.body["spec"]?["clusterIP"] == "None" && headless.body["spec"]?["clusterIPs"] == ["None"], "\(headless.text)")
        var external = Self.service("external", type: "ExternalName")
        external["spec"]?["externalName"] = "example.com"
        let externalName = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/services", body: external)
        #expect(externalName.status == 201 && externalName.body["spec"]?["clusterIP"] == nil, "\(externalName.text)")

        let table = try await cluster.kubectl(["get", "service", "web", "-n", namespace])
        #expect(table.stdout.contains(ip), "\(table.output)")
        await cluster.stop()
    }

    @Test("a requested cluster IP is honoured when free; taken, reserved or out-of-range ones are 422 with the real messages")
    func requestedAddresses() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("svc-requested")
        let path = "/api/v1/namespaces/\(namespace)/services"
        let first = try await cluster.http.request("POST", path, body: Self.service("first", clusterIP: "10.96.0.10"))
        #expect(first.status == 201 && first.body["spec"]?["clusterIPs"] == ["10.96.0.10"], "\(first.text)")
        let taken = try await cluster.http.request("POST", path, body: Self.service("second", clusterIP: "10.96.0.10"))
        #expect(taken.status == 422)
        #expect(taken.body["reason"] == "Invalid")
        #expect(
            taken.body["message"]?.stringValue?.contains(
                #"Service "second" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated"#
            ) == true, "\(taken.text)")
        let reserved = try await cluster.http.request("POST", path, body: Self.service("second", clusterIP: "10.96.0.1"))
        #expect(
            reserved.body["message"]?.stringValue?.contains("provided IP is already allocated") == true, "the kubernetes Service's address: \(reserved.text)")
        let outside = try await cluster.http.request("POST", path, body: Self.service("second", clusterIP: "192.168.0.1"))
        #expect(outside.status == 422)
        #expect(
            outside.body["message"]?.stringValue?.contains(
                "spec.clusterIPs: Invalid value: [\"192.168.0.1\"]: failed to allocate IP 192.168.0.1: the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12"
            ) == true, "\(outside.text)")
        let garbage = try await cluster.http.request("POST", path, body: Self.service("second", clusterIP: "not-an-ip"))
        #expect(garbage.status == 422 && garbage.body["message"]?.stringValue?.contains("must be a valid IP address") == true, "\(garbage.text)")

        let dryRun = try await cluster.http.request("POST", path + "?dryRun=All", body: Self.service("dry", clusterIP: "10.96.0.11"))
        #expect(dryRun.status == 201 && dryRun.body["spec"]?["clusterIP"] == "10.96.0.11")
        let afterDryRun = try await cluster.http.request("POST", path, body: Self.service("third", clusterIP: "10.96.0.11"))
        #expect(afterDryRun.status == 201, "a dry run takes no address: \(afterDryRun.text)")

        #expect(try await cluster.http.request("DELETE", path + "/first").status == 200)
        let reused = try await cluster.http.request("POST", path, body: Self.service("second", clusterIP: "10.96.0.10"))
        #expect(reused.status == 201, "a deleted Service's address is free again: \(reused.text)")
        await cluster.stop()
    }

    @Test("the cluster IP is immutable, and updates or applies that omit it keep it")
    func immutable() async throws {
        let cluster = try await TestCluster.start()
        let namespace = try await cluster.namespace("svc-immutable")
        let path = "/api/v1/namespaces/\(namespace)/services/web"
        let created = try await cluster.http.request("POST", "/api/v1/namespaces/\(namespace)/services", body: Self.service("web"))
        let ip = try #require(created.body["spec"]?["clusterIP"]?.stringValue)

        var replacement = Self.service("web")
        replacement["metadata"]?["resourceVersion"] = created.body["metadata"]?["resourceVersion"]
        let put = try await cluster.http.request("PUT", path, body: replacement)
        #expect(put.status == 200, "\(put.text)")
        #expect(put.body["spec"]?["clusterIP"] == .string(ip))
        #expect(put.body["metadata"]?["resourceVersion"] == created.body["metadata"]?["resourceVersion"], "omitting the allocated values is no change")

        let changed = try await cluster.http.request(
            "PATCH", path, body: ["spec": ["clusterIP": "10.96.0.77", "clusterIPs": ["10.96.0.77"]]], contentType: "application/merge-patch+json")
        #expect(changed.status == 422)
        #expect(
            changed.body["message"]?.stringValue?.contains(#"spec.clusterIPs[0]: Invalid value: ["10.96.0.77"]: may not change once set"#) == true,
            "\(changed.text)")

        let manifest = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              selector: {app: web}
              ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
            """
        let apply = try await cluster.kubectl(["apply", "-n", namespace, "-f", "-"], stdin: manifest)
        #expect(apply.status == 0, "\(apply.output)")
        let serverSide = try await cluster.kubectl(["apply", "--server-side", "--force-conflicts", "-n", namespace, "-f", "-"], stdin: manifest)
        #expect(serverSide.status == 0, "\(serverSide.output)")
        let current = try await cluster.http.request("GET", path)
        #expect(current.body["spec"]?["clusterIP"] == .string(ip))
        #expect(current.body["spec"]?["ports"]?.arrayValue?.count == 2)
        await cluster.stop()
    }

    @Test("addresses come back when Services go, by any path; a full range is a 500")
    func exhaustionAndRelease() async throws {
        let api = await APIServer(serviceClusterIPRange: try ServiceCIDR("10.0.0.0/29"))
        func create(_ name: String) async -> APIResponse {
            await api.handle(
                APIRequest(
                    method: "POST", target: "/api/v1/namespaces/default/services", headers: ["content-type": "application/json"],
                    body: Data(Self.service(name).jsonBytes())))
        }
        // 10.0.0.0/29: .0 is the network, .1 the kubernetes Service's, .7 the broadcast address.
        var addresses: Set<String> = []
        for index in 0..<5 {
            let response = await create("s\(index)")
            #expect(response.status == 201)
            if case .json(_, let body, _) = response, let ip = body["spec"]?["clusterIP"]?.stringValue { addresses.insert(ip) }
        }
        #expect(addresses == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
        let full = await create("s5")
        #expect(full.status == 500)
        if case .json(_, let body, _) = full { #expect(body["message"]?.stringValue?.contains("range is full") == true) }

        _ = await api.handle(APIRequest(method: "DELETE", target: "/api/v1/namespaces/default/services/s0"))
        #expect(await create("s5").status == 201)
    }

    @Test("service CIDRs parse like kube-apiserver's flag; the local runtime needs a loopback range")
    func ranges() async throws {
        #expect(try ServiceCIDR("10.96.0.0/12") == .standard)
        #expect(try ServiceCIDR("127.96.0.0/16") == .loopback && ServiceCIDR.loopback.isLoopback)
        #expect(throws: ServiceCIDR.ParseError.self) { try ServiceCIDR("10.96.0.1/12") }
        #expect(throws: ServiceCIDR.ParseError.self) { try ServiceCIDR("10.96.0.0") }
        #expect(throws: ServiceCIDR.ParseError.self) { try ServiceCIDR("10.96.0.0/31") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-runtime-\(UUID().uuidString)")
        await #expect(throws: LocalCluster.ConfigurationError.self) {
            _ = try await LocalCluster(runtime: .init(directory: directory), serviceClusterIPRange: .standard)
        }
    }
}
