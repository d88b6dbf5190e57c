import Hummingbird

/// Every route the application registered, so a test can hold the list against
/// `docs/openapi.yaml`.
public final class RouteTable: @unchecked Sendable {
    // Appended to only while `buildApplication` runs, on one task, before the server starts;
    // only read afterwards. There is never concurrent access, hence unchecked.
    public private(set) var routes: [(method: String, path: String)] = []

    public init() {}

    func record(_ method: HTTPRequest.Method, _ path: String) {
        routes.append((method.rawValue, path))
    }

    /// The methods registered for routes whose template (`/v1/warnings/{id}`) matches
    /// `path`, in the order they were registered.
    func methods(matching path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var found: [String] = []
        for route in routes where !found.contains(route.method) {
            let template = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == segments.count else { continue }
            let matches = zip(template, segments).allSatisfy { pattern, segment in
                pattern == segment || (pattern.hasPrefix("{") && pattern.hasSuffix("}") && !segment.isEmpty)
            }
            if matches { found.append(route.method) }
        }
        return found
    }
}

/// Adds routes to a router or group and records each one, with its full path, in a table.
struct RouteRegistrar<Methods: RouterMethods> {
    let methods: Methods
    /// The path of the group `methods` is, e.g. `/v1`; empty for the router itself.
    let prefix: String
    let table: RouteTable

    func on(
        _ method: HTTPRequest.Method, _ path: String,
        use handler: @Sendable @escaping (Request, Methods.Context) async throws -> some ResponseGenerator
    ) {
        table.record(method, prefix + path)
        methods.on(RouterPath(path), method: method, use: handler)
    }
}
