import Foundation
import WarncastCore
import WarncastDispatch
import WarncastNet

/// A channel this build does not have, added the way any new one is: this file, and one
/// registration line where the registry is built (`AdapterRegistry.standard.adding(…)`).
/// A pager gateway takes a JSON page (202) and later calls back on
/// `POST /v1/receipts/pager?d=…&t=…` with `{"status":"read"}` or `{"status":"lost"}`.
struct PagerAdapter: ChannelAdapter {
    let context: AdapterContext

    static let registration = AdapterRegistration(
        kind: "pager",
        make: { context in
            try context.rejectUnknown(except: [])
            return PagerAdapter(context: context)
        },
        receipts: ReceiptRegistration(route: ReceiptRoute(method: "POST", path: PagerReports.path)) { _, _ in PagerReports() })

    func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        let page: [String: String] = [
            "pager": job.recipient.address, "text": message.text,
            "callback": context.callbackURL(PagerReports.path, deliveryID: job.id),
        ]
        return HTTPRequestSpec(
            method: "POST", url: "http://pager-gateway.invalid/page", headers: ["Content-Type: application/json"],
            body: try JSONEncoder().encode(page))
    }

    func outcome(of result: HTTPResult) -> DeliveryOutcome {
        HTTPStatusClass(result.status).outcome(taken: .accepted, reason: "pager gateway HTTP \(result.status)")
    }

    /// One breaker for the gateway.
    func endpoint(for job: DeliveryJob) -> String { "pager-gateway" }
}

struct PagerReports: ReceiptReader {
    static let path = "/v1/receipts/pager"

    func read(_ callback: ReceiptCallback) throws(ReceiptReadError) -> GatewayReport {
        guard let report = try? JSONDecoder().decode([String: String].self, from: callback.body), let status = report["status"] else {
            throw ReceiptReadError("a pager report is {\"status\": \"read\" | \"lost\"}")
        }
        let state: DeliveryState? =
            switch status {
            case "read": .delivered
            case "lost": .failed
            default: nil
            }
        return GatewayReport(state: state, detail: "pager: \(status)", source: "pager")
    }
}
