// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "siotape",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "siotape", targets: ["siotape"]),
        // The benchmark's peers (fast echo upstream, load generator), used by tools/bench/run.
        .executable(name: "siotape-bench", targets: ["siotape-bench"]),
        // The codecs, the recording format and the capture as libraries, for the fuzz targets in Fuzz/.
        .library(name: "SIOWire", targets: ["SIOWire"]),
        .library(name: "SIORecording", targets: ["SIORecording"]),
        .library(name: "SIOCapture", targets: ["SIOCapture"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // Wire codecs: Engine.IO v3/v4, Socket.IO v4/v5, HTTP/1 framing, WebSocket frames.
        // No sockets, no files, no clock.
        .target(
            name: "SIOWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // The recording format: records, JSON-lines encoding, gzip writer and reader. No sockets.
        .target(
            name: "SIORecording",
            dependencies: [
                "SIOWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // Sans-io capture: taps fed with the bytes of a proxied connection, session tracking,
        // ack pairing, redaction. Emits records.
        .target(
            name: "SIOCapture",
            dependencies: [
                "SIOWire",
                "SIORecording",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Formatting of records for people and machines (live view, later inspect).
        .target(
            name: "SIOInspect",
            dependencies: [
                "SIOWire",
                "SIORecording",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The browser view: a small HTTP server with a JSON API over recordings (or the live proxy)
        // and the page's assets compiled in; the static HTML report. Beside SIOInspect, which it reads with.
        .target(
            name: "SIOView",
            dependencies: [
                "SIOWire",
                "SIORecording",
                "SIOInspect",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The recording proxy: NIO networking only.
        .target(
            name: "SIOProxy",
            dependencies: [
                "SIOWire",
                "SIOCapture",
                "SIORecording",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Replay: recordings as a mock Socket.IO server (serve) and as a client that drives a live
        // server and compares its answers (run). NIO networking.
        .target(
            name: "SIOReplay",
            dependencies: [
                "SIOWire",
                "SIORecording",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The thin command-line front end.
        .executableTarget(
            name: "siotape",
            dependencies: [
                "SIOProxy",
                "SIOCapture",
                "SIORecording",
                "SIOInspect",
                "SIOReplay",
                "SIOView",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The benchmark's own peers: a fast Socket.IO echo upstream and a load generator.
        .executableTarget(
            name: "siotape-bench",
            dependencies: [
                "SIOWire",
                // `siotape-bench capture` measures the capture path itself (`--view`: with the browser view's feed).
                "SIOCapture",
                // `capture --queue`: the taps told through the proxy's CaptureQueue.
                "SIOProxy",
                // `relay --lines` (the recording floor) writes a recording as `record` does.
                "SIORecording",
                "SIOView",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The captures of real peers that SIOWireTests decode and SIOCaptureTests feed through the
        // capture: one copy of the files, as this target's resources.
        .target(
            name: "CaptureFixtures",
            path: "Tests/CaptureFixtures",
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "SIOWireTests",
            dependencies: [
                "SIOWire",
                "CaptureFixtures",
                .product(name: "NIOCore", package: "swift-nio"),
                // Only to produce permessage-deflate input for the decoder tests.
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .testTarget(
            name: "SIORecordingTests",
            dependencies: ["SIORecording", "SIOWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SIOInspectTests",
            dependencies: ["SIOInspect", "SIORecording", "SIOWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SIOViewTests",
            dependencies: ["SIOView", "SIOInspect", "SIORecording", "SIOWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "SIOCaptureTests",
            dependencies: [
                "SIOCapture", "SIORecording", "SIOWire", "CaptureFixtures",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .testTarget(
            name: "SIOProxyTests",
            dependencies: [
                "SIOProxy", "SIOCapture", "SIORecording", "SIOWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SIOReplayTests",
            dependencies: [
                "SIOReplay", "SIORecording", "SIOWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["SIORecording", "SIOWire", .product(name: "NIOCore", package: "swift-nio")]
        ),
    ]
)
