// swift-tools-version:6.2
// Micro-benchmarks of the admission path, beside the main package so ordinary builds never compile them.
// Run from the repository root: swift run -c release --package-path Benchmarks AdmissionBenchmarks
import PackageDescription

let package = Package(
    name: "fledge-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "fledge", path: "..")],
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
        )
    ]
)
