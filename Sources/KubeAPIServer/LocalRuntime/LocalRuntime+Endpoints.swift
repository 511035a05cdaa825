import Foundation
import KubeCore

extension LocalRuntime {
    /// One EndpointSlice per ready pod behind each Service with a selector, carrying the pod's
    /// local port (every local pod listens on 127.0.0.1 with a port of its own), and the
    /// service proxy's listeners and backends for the namespace.
    func reconcileEndpoints(namespace: String) async {
        let objects = await store.objects(inNamespace: namespace)
        let services = objects.filter { $0.0 == BuiltinResources.services.key }.map(\.1.object)
        let pods = objects.filter { $0.0 == BuiltinResources.pods.key }.map(\.1.object)
        let existing = objects.filter { $0.0 == BuiltinResources.endpointSlices.key }.map(\.1.object)
            .filter { $0["metadata"]?["labels"]?["endpointslice.kubernetes.io/managed-by"]?.stringValue == LocalRuntime.managedBy }
        var desired: [String: JSONValue] = [:]
        var routes: [String: ServiceProxy.Route] = [:]
        for service in services where service["metadata"]?["deletionTimestamp"] == nil {
            guard let selector = service.value(at: ["spec", "selector"])?.objectValue, !selector.isEmpty else { continue }
            let serviceName = service["metadata"]?["name"]?.stringValue ?? ""
            var route = ServiceProxy.Route(frontends: LocalRuntime.frontends(of: service), backends: [])
            for pod in pods where LocalRuntime.isReady(pod) && pod["metadata"]?["deletionTimestamp"] == nil {
                let labels = pod["metadata"]?["labels"]?.objectValue ?? [:]
                guard selector.allSatisfy({ labels[$0.key] == $0.value }) else { continue }
                let podName = pod["metadata"]?["name"]?.stringValue ?? ""
                guard let port = ports["\(namespace)/\(podName)"] else { continue }
                route.backends.append(port)
                let name = "\(serviceName)-\(LocalRuntime.templateHash(.string(podName)).prefix(5))"
                let servicePorts = service.value(at: ["spec", "ports"])?.arrayValue ?? [[:]]
                desired[name] = [
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": [
                        "name": .string(name), "namespace": .string(namespace),
                        "labels": [
                            "kubernetes.io/service-name": .string(serviceName), "endpointslice.kubernetes.io/managed-by": .string(LocalRuntime.managedBy),
                        ],
                        "ownerReferences": [LocalRuntime.ownerReference(service)],
                    ],
                    "addressType": "IPv4",
                    "endpoints": [
                        [
                            "addresses": ["127.0.0.1"], "conditions": ["ready": true, "serving": true, "terminating": false],
                            "nodeName": .string(LocalRuntime.nodeName),
                            "targetRef": ["kind": "Pod", "name": .string(podName), "namespace": .string(namespace), "uid": pod["metadata"]?["uid"] ?? ""],
                        ]
                    ],
                    "ports": .array(
                        servicePorts.map { servicePort in
                            var entry: JSONValue = ["port": .integer(Int64(port)), "protocol": servicePort["protocol"] ?? "TCP"]
                            if let portName = servicePort["name"] { entry["name"] = portName }
                            return entry
                        }),
                ]
            }
            route.backends.sort()
            if !route.frontends.isEmpty { routes[serviceName] = route }
        }
        await proxy.sync(namespace: namespace, routes: routes)
        for slice in existing {
            let name = slice["metadata"]?["name"]?.stringValue ?? ""
            if desired[name] == nil { await delete(BuiltinResources.endpointSlices, namespace: namespace, name: name) }
        }
        for (name, slice) in desired {
            if let current = existing.first(where: { $0["metadata"]?["name"]?.stringValue == name }) {
                if current["endpoints"] != slice["endpoints"] || current["ports"] != slice["ports"] {
                    await updateObject(BuiltinResources.endpointSlices, namespace: namespace, name: name) { object in
                        object["endpoints"] = slice["endpoints"]
                        object["ports"] = slice["ports"]
                    }
                }
            } else {
                await createObject(BuiltinResources.endpointSlices, namespace: namespace, slice)
            }
        }
    }

    /// The cluster IP's TCP ports of a Service the proxy listens on (none when headless).
    static func frontends(of service: JSONValue) -> Set<ServiceProxy.Frontend> {
        guard let ip = service.value(at: ["spec", "clusterIP"])?.stringValue, !ip.isEmpty, ip != "None" else { return [] }
        let ports = service.value(at: ["spec", "ports"])?.arrayValue ?? []
        return Set(
            ports.compactMap { port in
                guard (port["protocol"]?.stringValue ?? "TCP") == "TCP", let number = port["port"]?.integerValue else { return nil }
                return ServiceProxy.Frontend(ip: ip, port: Int(number))
            })
    }
}
