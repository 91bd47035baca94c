// swift-tools-version:6.2
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "fledge",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fledge", targets: ["fledge"]),
        .library(name: "JSONValue", targets: ["JSONValue"]),
        .library(name: "KubeModels", targets: ["KubeModels"]),
        .library(name: "CanaryModel", targets: ["CanaryModel"]),
        .library(name: "Admission", targets: ["Admission"]),
        .library(name: "ServerGuards", targets: ["ServerGuards"]),
        .library(name: "WebhookServer", targets: ["WebhookServer"]),
        .library(name: "DevCluster", targets: ["DevCluster"]),
        .library(name: "Progression", targets: ["Progression"]),
        .library(name: "LoadTester", targets: ["LoadTester"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "CertificateKit", targets: ["CertificateKit"]),
        .library(name: "Dashboard", targets: ["Dashboard"]),
    ],
    traits: [
        .trait(
            name: "DeveloperCommands",
            description: """
                `fledge demo` and `fledge playground`, which link the embedded cluster (DevCluster). On by default so \
                `swift run fledge demo` works; the production binary is built with --disable-default-traits.
                """
        ),
        .default(enabledTraits: ["DeveloperCommands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
    ],
    targets: [
        .target(name: "JSONValue", swiftSettings: upcoming),
        .target(name: "KubeModels", dependencies: ["JSONValue"], swiftSettings: upcoming),
        .target(
            name: "CanaryModel",
            dependencies: ["JSONValue", "KubeModels", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: upcoming
        ),
        .target(
            name: "KubeClient",
            dependencies: [
                "JSONValue", "KubeModels",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Admission",
            dependencies: [
                "JSONValue", "KubeModels", "CanaryModel",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "ServerGuards",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "AdmissionCluster",
            dependencies: ["Admission", "CanaryModel", "JSONValue", "KubeClient", "KubeModels"],
            swiftSettings: upcoming
        ),
        .target(
            name: "WebhookServer",
            dependencies: [
                "Admission", "JSONValue", "KubeModels", "ServerGuards",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Progression",
            dependencies: [
                "ServerGuards",
                "CanaryModel", "JSONValue", "KubeClient", "KubeModels",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "DevCluster",
            dependencies: [
                "CertificateKit", "JSONValue", "KubeModels", "KubeYAML",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "LoadTester",
            dependencies: [
                "JSONValue", "KubeClient", "KubeModels", "ServerGuards",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "Dashboard",
            dependencies: [
                "CanaryModel", "JSONValue", "KubeClient", "KubeModels", "Progression",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [
                .embedInCode("Assets/index.html"), .embedInCode("Assets/app.js"), .embedInCode("Assets/app.css"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "DevClusterTestSupport",
            dependencies: [
                "DevCluster", "CanaryModel", "CertificateKit", "JSONValue", "KubeClient", "KubeModels",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "CertificateKit",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "KubeYAML",
            dependencies: ["JSONValue", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcoming
        ),
        .target(
            name: "CommandSupport",
            dependencies: [
                "JSONValue",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "PlaygroundCommands",
            dependencies: [
                "Admission", "CanaryModel", "CertificateKit", "CommandSupport", "DevCluster", "JSONValue", "KubeClient",
                "KubeModels", "KubeYAML", "LoadTester", "Progression", "WebhookServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "fledge",
            dependencies: [
                "AdmissionCluster",
                "Admission", "CanaryModel", "CertificateKit", "CommandSupport", "Dashboard", "JSONValue", "KubeClient",
                "KubeModels", "KubeYAML", "LoadTester", "Progression", "ServerGuards", "WebhookServer",
                .target(name: "PlaygroundCommands", condition: .when(traits: ["DeveloperCommands"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(name: "JSONValueTests", dependencies: ["JSONValue"], swiftSettings: upcoming),
        .testTarget(
            name: "CanaryModelTests",
            dependencies: ["CanaryModel", "JSONValue", "KubeModels", .product(name: "Yams", package: "Yams")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "AdmissionTests",
            dependencies: ["Admission", "CanaryModel", "JSONValue", "KubeModels"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "WebhookServerTests",
            dependencies: [
                "WebhookServer", "Admission", "CertificateKit", "JSONValue", "LoadTester",
                "ServerGuards",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "AdmissionCluster", "CanaryModel",
                "KubeClient", "KubeModels", "JSONValue", "CertificateKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DevClusterTests",
            dependencies: [
                "DevCluster", "DevClusterTestSupport", "CanaryModel", "JSONValue", "KubeClient", "KubeModels",
                "LoadTester",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "LoadTesterTests",
            dependencies: [
                "ServerGuards",
                "LoadTester", "JSONValue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "ProgressionTests",
            dependencies: [
                "ServerGuards",
                "Progression", "DevCluster", "DevClusterTestSupport", "Admission", "CanaryModel", "JSONValue",
                "KubeClient", "KubeModels",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "Dashboard", "CanaryModel", "JSONValue", "Progression",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "fledgeTests",
            dependencies: [
                "fledge", "CertificateKit", "JSONValue",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: upcoming
        ),
    ]
)
