import Crypto
import Foundation
import Logging
import WarncastConfig
import WarncastCore
import WarncastDispatch
import WarncastStore

/// The start-up steps shared by the daemon and the CLI: open the store, load the registries
/// named in the configuration, and write the configuration load to the audit log.
public enum Bootstrap {
    /// Opens the store of `configuration`; `migrating` hears the migrations an older store
    /// needs before they run.
    public static func openStore(
        _ configuration: WarncastConfiguration, now: @escaping @Sendable () -> Date = Date.init,
        migrating: ([String]) -> Void = { _ in }
    ) throws -> SQLiteStore {
        try SQLiteStore(path: configuration.store.databasePath, now: now, migrating: migrating)
    }

    /// What the dispatcher needs of the configuration: its channels and shared gateways,
    /// with the adapters of `registry`.
    public static func dispatch(
        _ configuration: WarncastConfiguration, adapters registry: AdapterRegistry = .standard
    ) -> DispatchService.Configuration {
        DispatchService.Configuration(
            channels: Array(configuration.dispatch.channels.values), gateways: configuration.dispatch.gateways, adapters: registry,
            retryUntilExpiry: configuration.dispatch.retryUntilExpiry, defaultLanguage: configuration.node.language,
            routing: registry.routing(configuration.dispatch.routing, channels: Array(configuration.dispatch.channels.values)))
    }

    /// The signing keyring, created with a new key (and an audit entry) on first start.
    public static func loadKeyring(
        _ configuration: WarncastConfiguration, store: any Store, actor: AuditActor
    ) async throws -> SigningKeyring {
        let path = configuration.dispatch.signingKeyFile
        let (keyring, created) = try SigningKeyring.loadOrCreate(path: path)
        if created {
            try await store.appendAudit(
                AuditEvent(actor: actor, action: .keysGenerated, subject: keyring.active.id, detail: ["file": path]), at: Date())
        }
        return keyring
    }

    /// Warnings handed down by an upper-tier node are filed under a department of its own,
    /// which may relay every event type of the catalogue.
    public static func saveUpstreamDepartments(
        _ configuration: WarncastConfiguration, into store: any Store, actor: AuditActor
    ) async throws {
        let upstream = configuration.cascade.upstream.map { $0.department(catalogue: configuration.events) }
        guard !upstream.isEmpty else { return }
        // Each upper node is filed as a department of its region, which must be in this
        // node's regions registry: say which key names the missing one, and what to do.
        for (index, node) in configuration.cascade.upstream.enumerated() where try await store.region(node.region) == nil {
            throw ConfigError(
                file: configuration.file, key: "cascade.upstream[\(index)].region",
                reason:
                    "region \(node.region.rawValue) of upper node '\(node.name)' is not in the regions registry; add its row (code,name,parent) to a file of registries.regions (a county node that loads only its own county needs this one row too)"
            )
        }
        try await store.saveDepartments(
            upstream,
            audit: AuditEvent(actor: actor, action: .cascadeUpstreamLoaded, subject: upstream.map(\.id).joined(separator: " ")))
    }

    /// Imports the registries named in the configuration and records the load.
    public static func loadRegistries(
        _ configuration: WarncastConfiguration, into store: any Store, actor: AuditActor, logger: Logger,
        secrets: RecipientSecrets? = nil
    ) async throws {
        let importer = RegistryImporter(store: store, actor: actor, secrets: secrets)
        var regions = 0
        for source in configuration.registries.regions {
            regions += try await importer.importRegions(file: source.path, within: source.within)
        }
        var departments = 0
        if let file = configuration.registries.departments {
            departments = try await importer.importDepartments(file: file, catalogue: configuration.events)
        }
        try await saveUpstreamDepartments(configuration, into: store, actor: actor)
        var recipients = 0
        if let file = configuration.registries.recipients {
            // Recipients removed with the CLI or API stay removed though the file still lists them.
            recipients = try await importer.importRecipients(
                file: file, channels: Set(configuration.dispatch.channels.keys), revive: false)
        }
        let digest = FileManager.default.contents(atPath: configuration.file).map { SHA256.hash(data: $0).hexString } ?? "-"
        try await store.appendAudit(
            AuditEvent(
                actor: actor, action: .configLoaded, subject: configuration.file,
                detail: [
                    "sha256": digest, "node": configuration.node.name,
                    "region": configuration.node.region.rawValue, "regions": String(regions),
                    "departments": String(departments), "recipients": String(recipients),
                ]),
            at: Date())
        logger.info(
            "configuration loaded",
            metadata: [
                "file": .string(configuration.file), "regions": .stringConvertible(regions),
                "departments": .stringConvertible(departments),
            ])
    }
}
