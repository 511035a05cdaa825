// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sextant",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KubeCore", targets: ["KubeCore"]),
        .library(name: "SextantAPI", targets: ["SextantAPI"]),
        .library(name: "KubeAPIServer", targets: ["KubeAPIServer"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "KubeRuntime", targets: ["KubeRuntime"]),
        .library(name: "SextantModelRuntime", targets: ["SextantModelRuntime"]),
        .library(name: "SextantServer", targets: ["SextantServer"]),
        .executable(name: "sextant-server", targets: ["sextant-server"]),
        .executable(name: "sextant-crdgen", targets: ["sextant-crdgen"]),
        .executable(name: "sextant-kube-apiserver", targets: ["sextant-kube-apiserver"]),
        .library(name: "SextantOperator", targets: ["SextantOperator"]),
        .executable(name: "sextant-operator", targets: ["sextant-operator"]),
        .executable(name: "kubectl-sextant", targets: ["kubectl-sextant"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Kubernetes machinery with no I/O: JSON values, object metadata, conditions,
        // structural OpenAPI schemas, and the schema validator/pruner/defaulter.
        .target(
            name: "KubeCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // The ml.sextant.dev/v1alpha1 API: the four kinds, their defaulting, validation and CRDs.
        .target(
            name: "SextantAPI",
            dependencies: ["KubeCore"]
        ),
        // A Kubernetes API server for tests and local use: in-memory storage, discovery,
        // built-in kinds and CRDs, watches, patches, server-side apply, TLS and auth.
        .target(
            name: "KubeAPIServer",
            dependencies: [
                "KubeCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sextant-kube-apiserver",
            dependencies: [
                "KubeAPIServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Kubernetes client: configuration (kubeconfig, in-cluster), TLS and auth, typed and
        // dynamic access, watches, server-side apply, typed errors, retries.
        .target(
            name: "KubeClient",
            dependencies: [
                "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The controller runtime: watcher, reflector store with indexes, work queue, controller,
        // finalizers, events, leader election, metrics.
        .target(
            name: "KubeRuntime",
            dependencies: [
                "KubeClient", "KubeCore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Measures the controller runtime (hack/bench-runtime).
        .executableTarget(
            name: "sextant-runtime-bench",
            dependencies: ["KubeRuntime", "KubeClient", "KubeAPIServer", "KubeCore", .product(name: "Logging", package: "swift-log")]
        ),
        // Native ONNX runtime for classic ML models: the ONNX protobuf subset, a loader that
        // validates every operator up front, and a batched evaluator (trees, linear, MLP).
        .target(
            name: "SextantModelRuntime",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Generated/README.md"]
        ),
        // Times ONNXModel.run on a fixture model (release build), for hack/ benchmarks.
        .executableTarget(
            name: "sextant-model-bench",
            dependencies: ["SextantModelRuntime"]
        ),
        // The inference server: model loading (file/http/s3/pvc), the data plane, KServe V1 and
        // Open Inference Protocol V2 routes, validation, metrics, drift, feedback, and the router.
        .target(
            name: "SextantServer",
            dependencies: [
                "SextantModelRuntime", "KubeClient", "KubeRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "sextant-server",
            dependencies: [
                "SextantServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // A minimal Hummingbird JSON echo server, the baseline in hack/bench-server.
        .executableTarget(
            name: "sextant-echo-bench",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The operator: reconcilers of Model, ModelVersion, InferenceService and RetrainPolicy,
        // the rollout state machine, stage gates, retraining runs.
        .target(
            name: "SextantOperator",
            dependencies: [
                "KubeRuntime", "KubeClient", "KubeCore", "SextantAPI", "SextantServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Local mode: the API server with the local runtime, the CRDs, the operator and the examples.
        .target(
            name: "SextantLocal",
            dependencies: [
                "SextantOperator", "KubeAPIServer", "KubeRuntime", "KubeClient", "KubeCore", "SextantAPI",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "sextant-operator",
            dependencies: [
                "SextantOperator", "SextantLocal", "SextantServer", "KubeRuntime", "KubeClient", "KubeAPIServer", "SextantAPI", "KubeCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Measures the operator with 1,000 Models against the API server (hack/bench-operator).
        .executableTarget(
            name: "sextant-operator-bench",
            dependencies: [
                "SextantOperator", "SextantLocal", "KubeAPIServer", "KubeRuntime", "KubeClient", "KubeCore", "SextantAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // kubectl sextant: status, promote, approve, abort/rollback, history, evaluate.
        .target(
            name: "SextantCLI",
            dependencies: [
                "KubeClient", "KubeCore", "SextantAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "kubectl-sextant",
            dependencies: ["SextantCLI", "KubeClient", "KubeCore", "SextantAPI", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Writes crds/*.yaml from the Swift types, and the chart's CRDs and RBAC rules.
        .executableTarget(
            name: "sextant-crdgen",
            dependencies: [
                "SextantAPI", "SextantOperator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers the test targets share (waiting with a deadline, free ports, a failure type).
        .target(name: "SextantTestSupport", path: "Tests/SextantTestSupport"),
        .testTarget(name: "KubeCoreTests", dependencies: ["KubeCore"]),
        // The Helm chart, the kustomize manifests, the images' build and the workflows.
        .testTarget(
            name: "DeliveryTests",
            dependencies: ["SextantTestSupport", "SextantOperator", "KubeAPIServer", "KubeCore", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "SextantOperatorTests",
            dependencies: [
                "SextantTestSupport",
                "SextantOperator", "SextantLocal", "SextantCLI", "SextantAPI", "KubeRuntime", "KubeClient", "KubeAPIServer", "KubeCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SextantServerTests",
            dependencies: [
                "SextantTestSupport",
                "SextantServer", "SextantModelRuntime", "KubeAPIServer", "KubeClient", "KubeRuntime", "KubeCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KubeRuntimeTests",
            dependencies: [
                "SextantTestSupport",
                "KubeRuntime", "KubeClient", "KubeAPIServer", "KubeCore",
                .product(name: "Logging", package: "swift-log"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "SextantTestSupport",
                "KubeClient", "KubeAPIServer", "KubeCore", "SextantAPI",
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SextantModelRuntimeTests",
            dependencies: ["SextantModelRuntime", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .testTarget(
            name: "KubeAPIServerTests",
            dependencies: [
                "SextantTestSupport",
                "KubeAPIServer", "KubeCore", "SextantAPI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "SextantAPITests",
            dependencies: ["SextantAPI", "KubeCore"],
            resources: []
        ),
    ],
    swiftLanguageModes: [.v6]
)
