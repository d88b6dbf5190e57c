import Foundation
import WarncastCore
import WarncastNet

/// A one-delivery adapter seen as a batch adapter with batches of one, so the dispatcher
/// has a single attempt path for every channel.
struct SingleDelivery: BatchChannelAdapter {
    let adapter: any ChannelAdapter

    var batchLimit: Int { 1 }
    var signsItself: Bool { adapter.signsItself }
    var wantsOriginal: Bool { adapter.wantsOriginal }

    func prepare(warning: Warning, cap: Data, text: String) -> [String: String] {
        adapter.prepare(warning: warning, cap: cap, text: text)
    }

    func endpoint(for job: DeliveryJob) -> String { adapter.endpoint(for: job) }

    func endpoints(for job: DeliveryJob) -> [String] { adapter.endpoints(for: job) }

    func notice(_ text: String, to recipient: Recipient, via endpoint: String) -> HTTPRequestSpec? {
        adapter.notice(text, to: recipient, via: endpoint)
    }

    func request(for job: DeliveryJob, message: OutgoingMessage) throws -> HTTPRequestSpec {
        try adapter.request(for: job, message: message)
    }

    func request(for batch: [DeliveryJob], message: OutgoingMessage) throws -> HTTPRequestSpec {
        try adapter.request(for: batch[0], message: message)
    }

    func request(for batch: [DeliveryJob], message: OutgoingMessage, via endpoint: String) throws -> HTTPRequestSpec {
        try adapter.request(for: batch[0], message: message, via: endpoint)
    }

    func outcome(of result: HTTPResult) -> DeliveryOutcome { adapter.outcome(of: result) }

    func outcomes(of result: Result<HTTPResult, CurlError>, for batch: [DeliveryJob]) -> [BatchOutcome] {
        switch result {
        case .success(let response):
            [BatchOutcome(adapter.outcome(of: response), status: response.status, detail: nil, reference: adapter.reference(in: response))]
        case .failure(let error):
            [BatchOutcome(.retry(error.message), status: nil, detail: error.description)]
        }
    }
}

extension ChannelAdapter {
    /// This adapter as a batch adapter: itself if it batches, else in batches of one.
    var batching: any BatchChannelAdapter {
        (self as? any BatchChannelAdapter) ?? SingleDelivery(adapter: self)
    }
}
