// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // A file sees only the members of modules it imports itself.
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "warncast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "warncastd", targets: ["warncastd"]),
        .executable(name: "warncast", targets: ["warncast"]),
        .executable(name: "warncast-receiver", targets: ["warncast-receiver"]),
    ],
    dependencies: [
        // Without swift-configuration (Hummingbird's ConfigurationSupport trait): the
        // configuration is Warncast's own YAML.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "WarncastCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        .target(
            name: "WarncastConfig",
            dependencies: ["WarncastCore", "Yams"],
            swiftSettings: strict
        ),
        .target(
            name: "WarncastStore",
            dependencies: [
                "WarncastCore", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "WarncastNet",
            dependencies: ["CCurl"],
            swiftSettings: strict
        ),
        .target(
            name: "WarncastDispatch",
            dependencies: [
                "WarncastCore", "WarncastStore", "WarncastNet",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "WarncastServer",
            dependencies: [
                "WarncastCore", "WarncastConfig", "WarncastStore", "WarncastDispatch", "WarncastNet",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The village broadcast receiver: takes signed warnings from warncastd and speaks them.
        .target(
            name: "WarncastReceiver",
            dependencies: [
                "CCurl", "WarncastCore", "WarncastNet", "Yams",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // SIGTERM and SIGINT: blocked before main(), then read through a pipe by one thread (see the file).
        .target(name: "CShutdownSignals"),
        .target(
            name: "ShutdownSignals",
            dependencies: [
                "CShutdownSignals",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "warncastd",
            dependencies: [
                "CShutdownSignals", "ShutdownSignals", "WarncastServer", "WarncastStore", "WarncastConfig", "WarncastDispatch",
                "WarncastNet", "WarncastCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "warncast",
            dependencies: [
                "WarncastCore", "WarncastConfig", "WarncastStore", "WarncastNet", "WarncastDispatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "warncast-receiver",
            dependencies: [
                "CShutdownSignals", "ShutdownSignals", "WarncastReceiver", "WarncastNet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The intake fuzzer: `make fuzz` builds it with libFuzzer (-sanitize=fuzzer, FUZZING);
        // an ordinary build makes it a replayer of saved inputs.
        .executableTarget(
            name: "warncast-fuzz",
            dependencies: ["WarncastCore"],
            path: "Tests/Fuzz",
            swiftSettings: strict
        ),
        .target(
            name: "WarncastTestSupport",
            dependencies: [
                "WarncastCore", "WarncastConfig", "WarncastStore", "WarncastDispatch", "WarncastNet",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
            ],
            path: "Tests/WarncastTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "WarncastCoreTests", dependencies: ["WarncastCore", "WarncastConfig", "WarncastTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "WarncastConfigTests", dependencies: ["WarncastConfig", "WarncastCore", "WarncastTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "WarncastStoreTests",
            dependencies: [
                "WarncastStore", "WarncastCore", "WarncastConfig", "WarncastTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "WarncastNetTests", dependencies: ["WarncastNet", "WarncastTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "WarncastDispatchTests",
            dependencies: [
                "WarncastDispatch", "WarncastCore", "WarncastConfig", "WarncastNet", "WarncastStore", "WarncastTestSupport",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WarncastServerTests",
            dependencies: [
                "WarncastServer", "WarncastDispatch", "WarncastStore", "WarncastNet", "WarncastCore", "WarncastConfig",
                "WarncastTestSupport", "Yams",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationEssentialsCompat", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "warncastdTests",
            dependencies: [
                "WarncastTestSupport", "WarncastNet", "WarncastCore", "WarncastDispatch", "WarncastConfig", "WarncastReceiver",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "WarncastReceiverTests",
            dependencies: [
                "WarncastReceiver", "WarncastCore", "WarncastNet",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
