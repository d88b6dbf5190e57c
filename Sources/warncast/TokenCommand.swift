import ArgumentParser
import Foundation
import WarncastConfig
import WarncastCore
import WarncastStore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Bearer tokens for departments, operators, auditors and receivers.",
        subcommands: [Create.self, Revoke.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token. The secret is printed once and stored only as a hash.")

        @OptionGroup var options: StoreOptions
        @Option(help: "Role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: String
        @Option(help: "Department the token belongs to (required for issuers).") var department: String?
        @Option(help: "Region a department-less token is scoped to, e.g. 430000.") var region: String?
        @Option(help: "Who holds it, for the audit log, e.g. \"值班员 张三\".") var name: String
        @Option(help: "For approvers: the approval role from the configuration, e.g. duty-leader.") var approvalRole: String?
        @Option(help: "When it stops working: a lifetime such as 90d, 12h or 30m, or a time such as 2027-01-01T00:00:00+08:00.")
        var expires: String?

        func run() async throws {
            let context = try CLIContext(options)
            let (role, scope) = try await Self.checkGrant(
                role: role, department: department, region: region, approvalRole: approvalRole, context: context)
            let now = Date()
            let expiry = try expires.map { text in
                guard let date = Self.expiry(text, from: now), date > now else {
                    throw ValidationError("--expires '\(text)' is neither a lifetime (90d, 12h, 30m) nor a future time with its UTC offset")
                }
                return Timestamp(date)
            }
            let token = AccessToken.generate()
            let grant = TokenGrant(
                id: token.id, name: name, role: role, departmentID: department, region: scope,
                createdAt: Timestamp(now), approvalRole: approvalRole, expiresAt: expiry)
            do {
                try await context.store.createToken(
                    grant, secretHash: AccessToken.hash(token.secret),
                    audit: AuditEvent(
                        actor: context.actor, action: .tokenCreated, subject: token.id,
                        detail: [
                            "role": role.rawValue, "name": name, "department": department ?? "-",
                            "region": scope.rawValue, "approvalRole": approvalRole ?? "-", "expires": expiry?.text ?? "never",
                        ]))
            } catch let error as StoreError {
                throw CLIError(error.description)
            }
            FileHandle.standardError.write(Data("created \(token.id) (\(role.rawValue)); the secret below is shown only now\n".utf8))
            print(token.secret)
        }

        /// `90d`, `12h`, `30m` from `now`, or a CAP time with an explicit offset.
        static func expiry(_ text: String, from now: Date) -> Date? {
            if let unit = text.last, let amount = Double(text.dropLast()), amount > 0 {
                switch unit {
                case "d": return now.addingTimeInterval(amount * 86_400)
                case "h": return now.addingTimeInterval(amount * 3_600)
                case "m": return now.addingTimeInterval(amount * 60)
                default: break
                }
            }
            return CAPTime.parse(text)
        }

        /// The role and the scope of a grant (a token's, a console account's), checked
        /// against the configuration and the store.
        static func checkGrant(
            role: String, department: String?, region: String?, approvalRole: String?, context: CLIContext
        ) async throws -> (Role, RegionCode) {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if role == .issuer && department == nil { throw ValidationError("an issuer needs --department") }
            let roles = context.configuration.approval.roles
            if role == .approver {
                guard let approvalRole, roles.contains(approvalRole) else {
                    throw ValidationError("an approver needs --approval-role, one of \(roles.joined(separator: ", "))")
                }
            } else if approvalRole != nil {
                throw ValidationError("--approval-role is only for approvers")
            }
            if let department {
                guard let found = try await context.store.department(id: department) else {
                    throw CLIError("no department '\(department)'")
                }
                if let region, region != found.region.rawValue {
                    throw ValidationError("--region \(region) differs from department \(department)'s region \(found.region)")
                }
                return (role, found.region)
            }
            guard let region else { throw ValidationError("give --department or --region") }
            guard let code = RegionCode(region) else { throw ValidationError("--region '\(region)' is not a division code") }
            return (role, code)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (tok_…).")

        @OptionGroup var options: StoreOptions
        @Argument(help: "Token id.") var id: String

        func run() async throws {
            let context = try CLIContext(options)
            let revoked = try await context.store.revokeToken(
                id: id, audit: AuditEvent(actor: context.actor, action: .tokenRevoked, subject: id))
            guard revoked else { throw CLIError("no live token '\(id)'") }
            print("revoked \(id)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")

        @OptionGroup var options: StoreOptions

        func run() async throws {
            let context = try CLIContext(options)
            for grant in try await context.store.tokens() {
                print(
                    [
                        grant.id, grant.role.rawValue, grant.approvalRole ?? "-", grant.departmentID ?? "-", grant.region.rawValue,
                        grant.name,
                        grant.revokedAt.map { "revoked \($0)" } ?? grant.expiresAt.map { "live until \($0)" } ?? "live",
                    ].joined(separator: "\t"))
            }
        }
    }
}
