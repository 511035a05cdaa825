import KubeClient
import KubeCore

/// How the operator reaches a Service it created: `http://<cluster IP>:<first port>`. A cluster
/// IP is stable for the Service's life and works from any pod (and, in local mode, from this
/// machine through the local runtime's proxy).
enum ServiceAddress {
    static func baseURL(of service: Service?) -> String? {
        guard let service, let ip = service.spec?["clusterIP"]?.stringValue, !ip.isEmpty, ip != "None" else { return nil }
        let port = service.spec?["ports"]?.arrayValue?.first?["port"]?.integerValue ?? 8080
        return "http://\(ip):\(port)"
    }
}
