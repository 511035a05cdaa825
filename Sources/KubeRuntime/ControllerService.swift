import KubeCore
import ServiceLifecycle

/// A controller as a swift-service-lifecycle `Service`: on graceful shutdown (SIGTERM through
/// a `ServiceGroup`) it stops taking new work, lets reconciles in flight finish, and returns.
public struct ControllerService<K: Resource>: Service {
    let controller: Controller<K>
    let reconcile: Controller<K>.Reconcile
    let errorPolicy: Controller<K>.ErrorPolicy?

    public init(_ controller: Controller<K>, reconcile: @escaping Controller<K>.Reconcile, errorPolicy: Controller<K>.ErrorPolicy? = nil) {
        self.controller = controller
        self.reconcile = reconcile
        self.errorPolicy = errorPolicy
    }

    public func run() async throws {
        let controller = controller
        let reconcile = reconcile
        let errorPolicy = errorPolicy
        await cancelWhenGracefulShutdown {
            await controller.run(reconcile: reconcile, errorPolicy: errorPolicy)
        }
    }
}

/// The operational endpoints as a `Service`.
extension OperationalServer: Service {}
