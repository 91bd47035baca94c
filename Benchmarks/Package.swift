// swift-tools-version:6.2
// Micro-benchmarks of the admission path, beside the main package so ordinary builds never compile them.
// Run from the repository root: swift run -c release --package-path Benchmarks AdmissionBenchmarks
// (or DevClusterBenchmarks for the embedded API server's writes/s and watch events/s).
import PackageDescription

let package = Package(
    name: "fledge-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "fledge", path: ".."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .executableTarget(
            name: "AdmissionBenchmarks",
            dependencies: [
                .product(name: "Admission", package: "fledge"),
                .product(name: "CanaryModel", package: "fledge"),
                .product(name: "JSONValue", package: "fledge"),
                .product(name: "KubeModels", package: "fledge"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
        .executableTarget(
            name: "DevClusterBenchmarks",
            dependencies: [
                .product(name: "DevCluster", package: "fledge"),
                .product(name: "KubeClient", package: "fledge"),
                .product(name: "Progression", package: "fledge"),
                .product(name: "CanaryModel", package: "fledge"),
                .product(name: "CertificateKit", package: "fledge"),
                .product(name: "JSONValue", package: "fledge"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        ),
    ]
)
