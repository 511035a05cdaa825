// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sextant",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KubeCore", targets: ["KubeCore"]),
        .library(name: "SextantAPI", targets: ["SextantAPI"]),
        .executable(name: "sextant-crdgen", targets: ["sextant-crdgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
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
        // Writes crds/*.yaml from the Swift types.
        .executableTarget(
            name: "sextant-crdgen",
            dependencies: [
                "SextantAPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KubeCoreTests", dependencies: ["KubeCore"]),
        .testTarget(
            name: "SextantAPITests",
            dependencies: ["SextantAPI", "KubeCore"],
            resources: []
        ),
    ],
    swiftLanguageModes: [.v6]
)
