import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastStore

/// What the application is built from: the validated configuration, the store, and the
/// metrics registry it reports into.
public struct ApplicationParts: Sendable {
    public var configuration: WarncastConfiguration
    public var store: any Store
    public var metrics: ServerMetrics
    public var logger: Logger
    public var now: @Sendable () -> Date
    /// Told of every released warning; by default, a log line.
    public var releaseSubscribers: [any ReleaseSubscriber]
    /// Public signing keys served at `/.well-known/warncast-keys`.
    public var publishedKeys: [SigningKeyring.PublishedKey]
    /// Checks the tokens of gateways' delivery reports; without it every report is refused.
    public var callbackTokens: CallbackToken?
    /// Asks lower-tier nodes for their reports; without it reports are this node's alone.
    public var downstream: DownstreamReports?
    /// The channel adapters this node can use; their receipt readers get routes here.
    public var adapters: AdapterRegistry
    /// How recipients' secrets are kept (keyed with the node's keyring); without it, plain
    /// SHA-256.
    public var recipientSecrets: RecipientSecrets?
    /// The connections of dial-in terminals, shared with the dispatcher's transport; without
    /// it terminals cannot dial in.
    public var dialIn: DialInHub?

    /// The configuration's routing, with the channels whose adapters cover divisions marked.
    public var routing: DeliveryRouting {
        adapters.routing(configuration.dispatch.routing, channels: Array(configuration.dispatch.channels.values))
    }

    public init(
        configuration: WarncastConfiguration, store: any Store, metrics: ServerMetrics = ServerMetrics(),
        logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        releaseSubscribers: [any ReleaseSubscriber]? = nil, publishedKeys: [SigningKeyring.PublishedKey] = [],
        callbackTokens: CallbackToken? = nil, downstream: DownstreamReports? = nil, adapters: AdapterRegistry = .standard,
        recipientSecrets: RecipientSecrets? = nil, dialIn: DialInHub? = nil
    ) {
        self.dialIn = dialIn
        self.recipientSecrets = recipientSecrets
        self.adapters = adapters
        self.downstream = downstream
        self.publishedKeys = publishedKeys
        self.callbackTokens = callbackTokens
        self.configuration = configuration
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.now = now
        self.releaseSubscribers = releaseSubscribers ?? [LogReleaseSubscriber(logger: logger)]
    }
}

/// The router with every route of the API, recording each in `routes`.
public func buildRouter(_ parts: ApplicationParts, routes: RouteTable = RouteTable()) -> Router<WarncastRequestContext> {
    let router = Router(context: WarncastRequestContext.self)
    router.add(middleware: InputGuardMiddleware(routes: routes))
    router.add(middleware: RequestMetricsMiddleware(metrics: parts.metrics))
    let root = RouteRegistrar(methods: router, prefix: "", table: routes)
    let refusals = AnonymousRefusals(store: parts.store, now: parts.now)
    HealthController(store: parts.store, metrics: parts.metrics, now: parts.now).register(on: root)
    KeysController(keys: parts.publishedKeys).register(on: root)
    let node = parts.configuration.node
    PublicController(
        store: parts.store, node: node.name, title: node.title, language: node.language, timeZone: node.timeZone,
        publicURL: parts.configuration.server.publicURL, now: parts.now
    ).register(on: root)
    let reports = WarningReportBuilder(
        store: parts.store, node: parts.configuration.node.name, downstream: parts.downstream, terminals: parts.routing.terminals,
        now: parts.now)
    let deliveries = DeliveryController(
        store: parts.store, channels: Set(parts.configuration.dispatch.channels.keys), reports: reports, refusals: refusals,
        secrets: parts.recipientSecrets, metrics: parts.metrics, now: parts.now)
    deliveries.registerReceipts(on: root)
    let terminals = TerminalController(
        store: parts.store, watch: parts.routing.terminals, refusals: refusals, secrets: parts.recipientSecrets, hub: parts.dialIn,
        now: parts.now)
    terminals.registerTerminalCalls(on: root)
    // The channels' settings were checked when the daemon started (as --check-config does).
    let readers = (try? parts.adapters.receiptReaders(for: Array(parts.configuration.dispatch.channels.values))) ?? [:]
    ReceiptController(
        outbox: parts.store, refusals: refusals, tokens: parts.callbackTokens, routes: parts.adapters.receiptRoutes, readers: readers,
        now: parts.now
    )
    .register(on: root)
    let releases = ReleaseAnnouncer(subscribers: parts.releaseSubscribers)
    let intake = WarningIntake(
        store: parts.store, check: IntakeCheck(catalogue: parts.configuration.events, language: parts.configuration.node.language),
        rules: parts.configuration.approval.rules,
        releases: releases, metrics: parts.metrics, now: parts.now, routing: parts.routing, refusals: refusals)
    CascadeController(
        store: parts.store, intake: intake,
        verifier: UpstreamVerifier(upstream: parts.configuration.cascade.upstream, ownKeyIDs: Set(parts.publishedKeys.map(\.id))),
        node: parts.configuration.node.name, nodeRegion: parts.configuration.node.region, catalogue: parts.configuration.events,
        reports: reports,
        maxBodyBytes: parts.configuration.server.maxBodyBytes, refusals: refusals, now: parts.now
    ).register(on: root)

    ConsoleController(
        store: parts.store, title: node.title, timeZone: node.timeZone, catalogue: parts.configuration.events, refusals: refusals,
        trustedProxies: Set(parts.configuration.server.trustedProxies), now: parts.now
    ).register(on: root)

    let api = router.group("v1").add(middleware: APIResponseHeaders()).add(
        middleware: BearerAuthenticator(store: parts.store, now: parts.now))
    let v1 = RouteRegistrar(methods: api, prefix: "/v1", table: routes)
    var warnings = WarningController(store: parts.store, intake: intake, maxBodyBytes: parts.configuration.server.maxBodyBytes)
    warnings.language = parts.configuration.node.language
    warnings.smsLimit =
        parts.configuration.dispatch.channels.values.filter { $0.adapter == .kannel }.compactMap {
            $0.settings["max_characters"].flatMap { Int($0) }
        }
        .min() ?? 670
    warnings.register(on: v1)
    ApprovalController(store: parts.store, releases: releases, now: parts.now, routing: parts.routing).register(on: v1)
    deliveries.register(on: v1)
    terminals.register(on: v1)
    RecipientController(
        store: parts.store, channels: Set(parts.configuration.dispatch.channels.keys), secrets: parts.recipientSecrets
    ).register(on: v1)
    TimelinessController(store: parts.store, reports: reports, thresholds: parts.configuration.timeliness, now: parts.now).register(on: v1)
    ExportController(store: parts.store, now: parts.now, nodeRegion: parts.configuration.node.region).register(on: v1)
    return router
}

extension HTTPServerBuilder {
    /// HTTP/1.1 as warncastd serves it: requests the parser cannot read get a JSON error too,
    /// and a connection idle for `idleTimeoutSeconds` (nothing asked, or a body stalled) is
    /// closed, so that nobody can hold connections open by sending nothing.
    public static func warncast(idleTimeoutSeconds: Int) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ParserErrorResponder()], idleTimeout: .seconds(Int64(idleTimeoutSeconds))))
    }
}

/// The HTTP application, ready to run as a `Service`.
public func buildApplication(
    _ parts: ApplicationParts, services: [any Service] = [],
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let server = parts.configuration.server
    return Application(
        router: buildRouter(parts),
        server: .warncast(idleTimeoutSeconds: server.idleTimeoutSeconds),
        configuration: .init(address: .hostname(server.host, port: server.port), serverName: "warncastd"),
        services: services,
        onServerRunning: onServerRunning,
        logger: parts.logger)
}
