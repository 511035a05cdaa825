import Foundation
import KubeClient
import KubeCore
import Logging

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's: acquire the lease when
/// it is free or expired, renew it every `retryPeriod`, give up leading when a renewal has not
/// succeeded within `renewDeadline` (so two leaders never act at once for longer than the lease
/// allows), and release it on shutdown so a successor takes over at once.
public struct LeaderElector: Sendable {
    public let identity: String
    let api: Api<Lease>
    let leaseName: String
    let leaseDuration: Duration
    let renewDeadline: Duration
    let retryPeriod: Duration
    let logger: Logger

    public init(
        api: Api<Lease>, leaseName: String, identity: String, leaseDuration: Duration = .seconds(15),
        renewDeadline: Duration = .seconds(10), retryPeriod: Duration = .seconds(2), logger: Logger = Logger(label: "sextant.leader-election")
    ) {
        self.api = api
        self.leaseName = leaseName
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
        self.logger = logger
    }

    /// Campaigns until the task is cancelled; runs `lead` while leading (cancelled on losing the
    /// lease) and campaigns again afterwards. On cancellation, releases a held lease.
    public func run(lead: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            guard await acquire() else {
                try? await Task.sleep(for: retryPeriod)
                continue
            }
            logger.info("became leader", metadata: ["lease": "\(leaseName)", "identity": "\(identity)"])
            let leading = Task { await lead() }
            var lastRenewal = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: retryPeriod)
                if Task.isCancelled { break }
                if await renew() {
                    lastRenewal = ContinuousClock.now
                    continue
                }
                let currentHolder = await holder()
                if ContinuousClock.now - lastRenewal > renewDeadline || currentHolder != identity {
                    logger.warning("lost leadership", metadata: ["lease": "\(leaseName)", "identity": "\(identity)"])
                    break
                }
            }
            leading.cancel()
            await leading.value
            if Task.isCancelled {
                await release()
                return
            }
        }
    }

    /// Tries once to take the lease.
    func acquire() async -> Bool {
        let now = MicroTime(Date())
        do {
            let lease = try await api.get(leaseName)
            if let holder = lease.spec?.holderIdentity, !holder.isEmpty, holder != identity, !expired(lease) { return false }
            var taken = lease
            let transitions = (lease.spec?.leaseTransitions ?? 0) + (lease.spec?.holderIdentity == identity ? 0 : 1)
            taken.spec = Lease.Spec(
                holderIdentity: identity, leaseDurationSeconds: seconds(leaseDuration), acquireTime: now, renewTime: now, leaseTransitions: transitions)
            _ = try await api.update(taken)
            return true
        } catch KubernetesError.notFound {
            let lease = Lease(
                metadata: ObjectMeta(name: leaseName),
                spec: Lease.Spec(holderIdentity: identity, leaseDurationSeconds: seconds(leaseDuration), acquireTime: now, renewTime: now, leaseTransitions: 0))
            return (try? await api.create(lease)) != nil
        } catch {
            return false
        }
    }

    private func renew() async -> Bool {
        guard var lease = try? await api.get(leaseName), lease.spec?.holderIdentity == identity else { return false }
        lease.spec?.renewTime = MicroTime(Date())
        return (try? await api.update(lease)) != nil
    }

    private func holder() async -> String? {
        (try? await api.get(leaseName))?.spec?.holderIdentity
    }

    private func release() async {
        guard var lease = try? await api.get(leaseName), lease.spec?.holderIdentity == identity else { return }
        lease.spec?.holderIdentity = nil
        lease.spec?.renewTime = nil
        lease.spec?.acquireTime = nil
        _ = try? await api.update(lease)
        logger.info("released leadership", metadata: ["lease": "\(leaseName)", "identity": "\(identity)"])
    }

    private func expired(_ lease: Lease) -> Bool {
        guard let renewed = lease.spec?.renewTime?.date else { return true }
        let duration = TimeInterval(lease.spec?.leaseDurationSeconds ?? seconds(leaseDuration))
        return Date() > renewed.addingTimeInterval(duration)
    }

    private func seconds(_ duration: Duration) -> Int32 { Int32(max(1, duration.components.seconds)) }
}
