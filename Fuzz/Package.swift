// swift-tools-version:6.0
// libFuzzer targets for siotape's decoders. A package of its own so that the main build never
// sees them; build and run with tools/fuzz/run (swift build --sanitize=fuzzer --sanitize=address).
import PackageDescription

let package = Package(
    name: "siotape-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "siotape", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "FuzzInput", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        // The record round trip of the targets that drive the capture.
        .target(
            name: "FuzzRoundTrip",
            dependencies: [
                "FuzzInput",
                .product(name: "SIOCapture", package: "siotape"),
                .product(name: "SIORecording", package: "siotape"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "FuzzEngineIO", dependencies: fuzzDependencies),
        .executableTarget(name: "FuzzSocketIO", dependencies: fuzzDependencies),
        .executableTarget(name: "FuzzWebSocket", dependencies: fuzzDependencies),
        .executableTarget(name: "FuzzHTTP1", dependencies: fuzzDependencies),
        .executableTarget(name: "FuzzMsgPack", dependencies: fuzzDependencies),
        .executableTarget(
            name: "FuzzRecordingReader",
            dependencies: fuzzDependencies + [.product(name: "SIORecording", package: "siotape")]
        ),
        .executableTarget(
            name: "FuzzCaptureTap",
            dependencies: fuzzDependencies + [
                "FuzzRoundTrip",
                .product(name: "SIOCapture", package: "siotape"),
                .product(name: "SIORecording", package: "siotape"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FuzzHARImport",
            dependencies: fuzzDependencies + [
                "FuzzRoundTrip",
                .product(name: "SIOCapture", package: "siotape"),
            ]
        ),
    ]
)

var fuzzDependencies: [Target.Dependency] {
    [
        "FuzzInput",
        .product(name: "SIOWire", package: "siotape"),
        .product(name: "NIOCore", package: "swift-nio"),
    ]
}
