import HTTPTypes
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request SwiftNIO's HTTP parser cannot read (a NUL in a header line, headers
/// larger than the limit, a broken request line) with the documented JSON error before the
/// connection closes, where Hummingbird alone would send an empty 400. It sits after the
/// HTTP/1 codec; while a request is being read or answered, a parser error (in a body) is
/// left to the server as before, so no answer is ever interleaved or sent twice.
final class ParserErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests read whose answer has not been written to its end.
    private var unanswered = 0
    /// Whether a request's head has been read and its end not yet: a parser error then lies
    /// in its body, which may already have been answered (a 413 that closes).
    private var reading = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            reading = true
        case .end: reading = false
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, unanswered == 0, !reading else {
            context.fireErrorCaught(error)
            return
        }
        let refusal = Self.refusal(for: parserError)
        let body = ByteBuffer(data: refusal.json)
        var head = HTTPResponse(status: refusal.status)
        head.headerFields[.contentType] = "application/json; charset=utf-8"
        head.headerFields[.contentLength] = String(body.readableBytes)
        head.headerFields[.connection] = "close"
        head.headerFields[.server] = "warncastd"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    static func refusal(for error: HTTPParserError) -> APIError {
        switch error {
        case .headerOverflow:
            APIError(
                .requestHeaderFieldsTooLarge, code: "headers_too_large", detail: "the request's headers are larger than the server reads")
        case .invalidHeaderToken, .invalidCharactersUsed, .lfExpected, .invalidConstant:
            APIError(
                .badRequest, code: "bad_request",
                detail: "a header line is not valid HTTP/1.1 (a control character, or a missing line end)")
        default:
            APIError(.badRequest, code: "bad_request", detail: "the request is not valid HTTP/1.1 (\(error))")
        }
    }
}
