import Foundation
import WarncastCore

/// Reads the `approval` section: roles, ordered rules, and escalation.
///
/// ```yaml
/// approval:
///   roles: [duty-leader, government-leader]
///   check_interval_seconds: 15
///   escalation: { repeat_minutes: 5, contacts: ["省应急值班室"] }
///   rules:
///     - name: red
///       match: { levels: [red] }
///       require:
///         - { role: duty-leader, scope: department }
///         - { role: government-leader, scope: government }
///       deadline_minutes: 10
/// ```
struct ApprovalConfigBuilder {
    let catalogue: EventCatalogue

    func build(_ section: ConfigSection) throws(ConfigError) -> WarncastConfiguration.Approval {
        let roles = try section.strings("roles")
        let interval = try section.optionalInt("check_interval_seconds", range: 1...3600) ?? 15
        var repeatMinutes = 5
        var contacts: [String] = []
        if let escalation = try section.optionalSection("escalation") {
            repeatMinutes = try escalation.optionalInt("repeat_minutes", range: 1...1440) ?? 5
            contacts = escalation.has("contacts") ? try escalation.strings("contacts") : []
            try escalation.rejectUnknownKeys()
        }
        var rules: [ApprovalRule] = []
        for entry in try section.list("rules") {
            let rule = try self.rule(entry, roles: roles)
            guard !rules.contains(where: { $0.name == rule.name }) else {
                throw entry.error("name", "rule '\(rule.name)' is defined twice")
            }
            rules.append(rule)
        }
        guard !rules.isEmpty else { throw section.error("rules", "needs at least one rule") }
        try section.rejectUnknownKeys()
        return .init(
            roles: roles, rules: ApprovalRuleSet(rules), checkInterval: TimeInterval(interval),
            escalationRepeat: TimeInterval(repeatMinutes * 60), escalationContacts: contacts)
    }

    private func rule(_ entry: ConfigSection, roles: [String]) throws(ConfigError) -> ApprovalRule {
        let name = try entry.string("name")
        let release =
            try entry.optionalString("release", allowed: ["after-approval", "immediate"])
            .flatMap(ReleaseMode.init(rawValue:)) ?? .afterApproval
        let deadline = try entry.optionalInt("deadline_minutes", range: 1...10_080).map { TimeInterval($0 * 60) }
        if release == .immediate && deadline == nil {
            throw entry.error("deadline_minutes", "rule '\(name)' releases at once, so it needs a review deadline")
        }
        var requirements: [ApprovalRequirement] = []
        for item in try entry.list("require") {
            requirements.append(try requirement(item, rule: name, roles: roles))
        }
        guard !requirements.isEmpty else { throw entry.error("require", "rule '\(name)' requires no approval") }
        let match =
            try entry.optionalSection("match").map { (section) throws(ConfigError) in
                try self.match(section, rule: name)
            } ?? ApprovalMatch()
        try entry.rejectUnknownKeys()
        return ApprovalRule(name: name, match: match, requirements: requirements, release: release, deadline: deadline)
    }

    private func requirement(_ item: ConfigSection, rule: String, roles: [String]) throws(ConfigError) -> ApprovalRequirement {
        let role = try item.string("role")
        guard roles.contains(role) else {
            throw item.error("role", "rule '\(rule)': unknown role '\(role)' (approval.roles lists \(roles.joined(separator: ", ")))")
        }
        let scopeText = try item.string("scope")
        guard let scope = ApprovalScope(rawValue: scopeText) else {
            throw item.error("scope", "rule '\(rule)': unknown scope '\(scopeText)' (department, government or above)")
        }
        let count = try item.optionalInt("count", range: 1...10) ?? 1
        try item.rejectUnknownKeys()
        return ApprovalRequirement(role: role, scope: scope, count: count)
    }

    private func match(_ section: ConfigSection, rule: String) throws(ConfigError) -> ApprovalMatch {
        var match = ApprovalMatch()
        match.levels = try values(section, "levels", rule: rule, Level.init(rawValue:))
        match.tiers = try values(section, "tiers", rule: rule, Tier.init(rawValue:))
        match.messageTypes = try values(section, "msg_types", rule: rule, MessageType.init(rawValue:))
        match.events = try values(section, "events", rule: rule) { catalogue.event(code: $0)?.code }
        match.kinds = section.has("kinds") ? Set(try section.strings("kinds")) : nil
        if section.has("escalates") {
            guard let flag = try section.optionalString("escalates").flatMap(Bool.init) else {
                throw section.error("escalates", "rule '\(rule)': expected true or false")
            }
            match.escalates = flag
        }
        try section.rejectUnknownKeys()
        return match
    }

    private func values<T: Hashable>(
        _ section: ConfigSection, _ key: String, rule: String, _ parse: (String) -> T?
    ) throws(ConfigError) -> Set<T>? {
        guard section.has(key) else { return nil }
        var result: Set<T> = []
        for text in try section.strings(key) {
            guard let value = parse(text) else {
                throw section.error(key, "rule '\(rule)': unknown value '\(text)'")
            }
            result.insert(value)
        }
        return result
    }
}
