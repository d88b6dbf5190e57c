import Foundation
import Hummingbird
import NIOFoundationEssentialsCompat
import WarncastCore

/// An error as the API returns it: an HTTP status and a JSON body
/// `{"error": "<code>", "detail": "<text>"}` whose code a program can act on.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var detail: String
    /// Headers the answer carries besides the content type (`Allow` on a 405).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public static func unauthenticated(_ detail: String) -> APIError {
        APIError(.unauthorized, code: "unauthenticated", detail: detail)
    }

    public static func forbidden(_ detail: String) -> APIError {
        APIError(.forbidden, code: "forbidden", detail: detail)
    }

    public static func notFound(_ detail: String) -> APIError {
        APIError(.notFound, code: "not_found", detail: detail)
    }

    public static func badQuery(_ detail: String) -> APIError {
        APIError(.badRequest, code: "invalid_query", detail: detail)
    }

    /// The API form of an intake refusal.
    public init(_ error: IntakeError) {
        self.init(Self.status(for: error), code: error.code, detail: error.detail)
    }

    /// The API form of a refused approval decision.
    public init(_ error: ApprovalError) {
        let status: HTTPResponse.Status =
            switch error {
            case .notAnApprover, .selfApproval, .outOfScope: .forbidden
            case .alreadyDecided, .nothingMissingForApprover, .notPending, .expired: .conflict
            case .reasonRequired: .unprocessableContent
            }
        self.init(status, code: error.code, detail: error.detail)
    }

    static func status(for error: IntakeError) -> HTTPResponse.Status {
        switch error {
        case .bodyTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .malformedXML, .xmlDeclarationForbidden, .xmlTooComplex, .xmlProcessingInstruction, .malformedJSON, .unsupportedEncoding,
            .controlCharacter:
            .badRequest
        case .eventNotAllowed, .areaOutsideJurisdiction, .referenceNotOwned, .notAnIssuer, .senderNotAllowed: .forbidden
        case .identifierConflict: .conflict
        default: .unprocessableContent
        }
    }

    struct Body: Codable {
        var error: String
        var detail: String
    }

    /// `{"error": code, "detail": detail}`, slashes as they are.
    var json: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? encoder.encode(Body(error: code, detail: detail))) ?? Data()
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = json
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"warncast\"" }
        // The rest of a body too large is not read: close rather than leave the client sending.
        if status == .contentTooLarge { headers[.connection] = "close" }
        headers.append(contentsOf: self.headers)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
