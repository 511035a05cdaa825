/// Waits until `condition` holds, checking it every `interval` until `seconds` have passed;
/// then fails with `what`. A condition that throws counts as not yet holding (a server that is
/// still starting refuses connections), and the last error it threw is part of the failure.
///
///     try await eventually("the Deployment exists") { try await deployments.get("web") != nil }
public func eventually(
    within seconds: Double = 60, every interval: Duration = .milliseconds(20), _ what: String,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    var lastError: (any Error)?
    while true {
        do {
            if try await condition() { return }
            lastError = nil
        } catch {
            lastError = error
        }
        guard ContinuousClock.now < deadline else { break }
        try await Task.sleep(for: interval)
    }
    throw TestError("timed out after \(seconds)s waiting for: \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
}
