import Foundation

/// A real Prometheus (the Debian package's `prometheus` binary) scraping given targets every
/// second, with its own port and data directory, for one test.
final class PrometheusServer: Sendable {
    let url: String
    private let process: Process
    private let directory: URL

    /// A free loopback port, chosen before Prometheus starts so it can be written into specs.
    static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) == 0 && getsockname(socketFD, $0, &length) == 0 }
        }
        guard bound else { throw TestError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init(port: Int, targets: [String]) throws {
        guard let binary = ["/usr/bin/prometheus", "/usr/local/bin/prometheus"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestError("prometheus is not installed (Debian package prometheus; .ci/run installs it)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sextant-prometheus-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: sextant
                static_configs:
                  - targets: [\(targets.map { "'\($0)'" }.joined(separator: ", "))]
            """
        let configFile = directory.appendingPathComponent("prometheus.yml")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        url = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--config.file=\(configFile.path)", "--storage.tsdb.path=\(directory.appendingPathComponent("data").path)",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
