import Foundation
import Hummingbird
import Logging
import NIOFoundationCompat

/// Answers `POST /hook/<segment>` (the endpoint's `id` or its key's fingerprint): admission →
/// bounded body → verify → parse → dispatch → one-line answer.
struct HookController: Sendable {
    let table: RouteTable
    let deliveries: Deliveries
    let metrics: HookMetrics
    let gate = AdmissionGate()

    static let path: RouterPath = "/hook/:segment"

    func addRoutes(to router: Router<HookRequestContext>) {
        router.post(Self.path) { request, context in
            await handle(request, context: context)
        }
        for method: HTTPRequest.Method in [.get, .head, .put, .delete, .patch, .options] {
            router.on(Self.path, method: method) { _, _ in
                var response = Self.reply(.methodNotAllowed, "method not allowed; webhooks are sent with POST")
                response.headers[.allow] = "POST"
                return response
            }
        }
    }

    func handle(_ request: Request, context: HookRequestContext) async -> Response {
        let receiver = table.receiver
        guard let segment = context.parameters.get("segment"), let route = receiver.routes[segment] else {
            return Self.reply(.notFound, "not found")
        }
        let endpoint = route.endpoint
        var logger = context.logger
        logger[metadataKey: "hook.endpoint"] = "\(endpoint.name)"
        logger[metadataKey: "hook.source"] = "\(endpoint.source.rawValue)"

        let peer = context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        let forwardedFor = request.headers[values: .xForwardedFor]
        if let allowed = endpoint.allowFrom {
            let client = receiver.clientAddresses.client(peer: peer, forwardedFor: forwardedFor)
            guard let client, allowed.contains(client) else {
                let from = client.map { "\($0)" } ?? "an address that cannot be told"
                return turnAway(.forbidden, "forbidden: this endpoint takes requests only from its allowFrom addresses, and this one came from \(from)",
                                outcome: .forbidden, endpoint: endpoint, logger: logger)
            }
        }
        let client = receiver.clientAddresses.cappedClient(peer: peer, forwardedFor: forwardedFor)
        if let full = gate.enter(endpoint: endpoint.name, client: client, limits: receiver.limits) {
            let whose = switch full {
            case .server: ""
            case .endpoint: " to this endpoint"
            case .client: " from your address"
            }
            return turnAway(.tooManyRequests, "too many requests at once\(whose); retry in a second", retryAfter: .seconds(1),
                            outcome: .overloaded, endpoint: endpoint, logger: logger)
        }
        defer { gate.leave(endpoint: endpoint.name, client: client) }
        if let bucket = route.bucket, let wait = bucket.take() {
            return turnAway(.tooManyRequests, "too many requests to this endpoint (rateLimit: \(bucket.limit)); retry later", retryAfter: wait,
                            outcome: .rateLimited, endpoint: endpoint, logger: logger)
        }
        return await process(request, route: route, limits: receiver.limits, peer: peer, logger: logger)
    }

    /// The request admitted: read the body, verify, parse, dispatch.
    private func process(_ request: Request, route: Receiver.Route, limits: Limits, peer: IPAddress?, logger: Logger) async -> Response {
        let endpoint = route.endpoint
        var logger = logger
        var heldBytes = 0
        defer { gate.release(bytes: heldBytes, endpoint: endpoint.name) }
        let body: ByteBuffer
        do throws(BodyRefusal) {
            body = try await readBody(request, endpoint: endpoint.name, limits: limits, held: &heldBytes)
        } catch {
            switch error {
            case .tooLarge:
                return refuse(HookFailure(status: .contentTooLarge, message: "body larger than \(limits.maxBodyBytes) bytes",
                                          reason: "the body exceeds limits.maxBodySize (\(limits.maxBodyBytes) bytes)"),
                              outcome: .tooLarge, route: route, logger: logger)
            case .overBudget:
                return turnAway(.serviceUnavailable, "too many request bodies in flight; retry in a second", retryAfter: .seconds(1),
                                outcome: .overloaded, endpoint: endpoint, logger: logger)
            case .unreadable(let reason):
                return refuse(.badRequest("cannot read the body", reason: "could not read the request body: \(reason)"),
                              outcome: .badRequest, route: route, logger: logger)
            }
        }

        let webhook = WebhookRequest(headers: request.headers, body: body.getData(at: body.readerIndex, length: body.readableBytes, byteTransferStrategy: .noCopy) ?? Data())
        if let senderID = route.provider.deliveryID(of: webhook) { logger[metadataKey: "hook.delivery"] = "\(senderID)" }

        let verdict = await Verdict.decide(webhook, endpoint: endpoint, provider: route.provider, maxEvents: limits.maxEventsPerDelivery)
        guard case .work(let work) = verdict else {
            return answer(verdict, request: webhook, route: route, logger: logger)
        }
        logger[metadataKey: "hook.delivery"] = "\(work.deliveryID)"
        logger[metadataKey: "hook.event"] = "\(Verdict.names(work.events))"
        let notifiable = work.events
        let chosen = work.choices.flatMap { choice in route.steps[choice.action].notifiers.map { (notifier: $0, events: choice.events) } }
        guard !chosen.isEmpty else {
            // Only `forward` actions chose it, and their groups have no backends (yet).
            metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .unmatched)
            logger.warning("nothing to forward to: the forward action's backend group is empty")
            return Self.reply(.ok, "event \(Verdict.names(work.events)) accepted; the forward group has no backends")
        }
        var context = NotifyContext(endpoint: endpoint.name, source: endpoint.source, deliveryID: work.deliveryID, logger: logger)
        if chosen.contains(where: { $0.notifier.needsRequest }) {
            context.request = ForwardedRequest(
                headers: request.headers, body: body, query: request.uri.query, client: peer.map { "\($0)" }, authority: request.head.authority)
        }
        let result: DispatchResult
        do throws(DispatchError) {
            result = try await deliveries.dispatch(chosen, mode: endpoint.delivery, context: context, dedupeKeys: work.dedupeKeys)
        } catch {
            switch error {
            case .notify(let failures):
                let timedOut = failures.allSatisfy { $0.failure.kind == .timeout }
                metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: timedOut ? .downstreamTimeout : .downstreamError)
                for failed in failures {
                    logger.error("notification failed", metadata: ["hook.reason": "\(failed.failure.detail)"])
                }
                // Backends are named by host (never their paths or answers): the sender may show it.
                let backends = failures.compactMap { failed in
                    failed.backend.map { "\($0) (\(failed.failure.status.map { "answered \($0)" } ?? failed.failure.kind.rawValue))" }
                }
                if !backends.isEmpty {
                    return Self.reply(timedOut ? .gatewayTimeout : .badGateway, "forwarding failed: " + backends.joined(separator: ", "))
                }
                return timedOut
                    ? Self.reply(.gatewayTimeout, "timed out waiting for the downstream API")
                    : Self.reply(.badGateway, "the downstream API failed")
            case .storage(let failure):
                metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .unavailable)
                logger.error("cannot queue the notification", metadata: ["hook.reason": "\(failure)"])
                var response = Self.reply(.serviceUnavailable, "cannot store the notification; try again later")
                response.headers[.retryAfter] = "30"
                return response
            }
        }
        switch result {
        case .delivered:
            metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .notified)
            logger.info("notified", metadata: ["hook.events": "\(notifiable.count)"])
            return Self.reply(.ok, "OK")
        case .queued:
            metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .queued)
            logger.info("queued", metadata: ["hook.events": "\(notifiable.count)"])
            return Self.reply(.ok, "queued")
        case .duplicate:
            metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .duplicate)
            logger.info("duplicate delivery; nothing notified")
            return Self.reply(.ok, "duplicate")
        }
    }

    /// Why a body was not read in full.
    enum BodyRefusal: Error {
        /// Over `limits.maxBodySize` (413).
        case tooLarge
        /// Over `limits.maxBodyBytesInFlight` or the endpoint's share of it (503).
        case overBudget
        /// The connection failed or closed before the body ended.
        case unreadable(String)
    }

    /// Reads the body into one buffer, holding its bytes against the budget (``AdmissionGate``):
    /// all at once before reading when `Content-Length` says how many, else as they arrive.
    /// `held` says how many bytes are held, for the caller to release.
    private func readBody(_ request: Request, endpoint: String, limits: Limits, held: inout Int) async throws(BodyRefusal) -> ByteBuffer {
        var buffer = ByteBuffer()
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }) {
            guard declared <= limits.maxBodyBytes else { throw .tooLarge }
            guard gate.hold(bytes: declared, endpoint: endpoint, limits: limits) else { throw .overBudget }
            held = declared
            buffer.reserveCapacity(declared)
        }
        do {
            for try await var chunk in request.body {
                let total = buffer.readableBytes + chunk.readableBytes
                guard total <= limits.maxBodyBytes else { throw BodyRefusal.tooLarge }
                if total > held {
                    guard gate.hold(bytes: total - held, endpoint: endpoint, limits: limits) else { throw BodyRefusal.overBudget }
                    held = total
                }
                buffer.writeBuffer(&chunk)
            }
        } catch let refusal as BodyRefusal {
            throw refusal
        } catch {
            throw .unreadable("\(error)")
        }
        return buffer
    }

    /// Refuses a request before its body is read. Logged at debug level only: these answer floods.
    private func turnAway(
        _ status: HTTPResponse.Status, _ message: String, retryAfter: Duration? = nil, outcome: Outcome, endpoint: Endpoint, logger: Logger
    ) -> Response {
        metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: outcome)
        logger.debug("turned a request away: \(message)", metadata: ["hook.status": "\(status.code)"])
        var response = Self.reply(status, message)
        if let retryAfter {
            let seconds = retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0)
            response.headers[.retryAfter] = "\(max(1, seconds))"
        }
        return response
    }

    /// Answers every verdict but work: the one place that maps a ``Verdict`` to status, body,
    /// metric and log line.
    private func answer(_ verdict: Verdict, request: WebhookRequest, route: Receiver.Route, logger: Logger) -> Response {
        guard let answer = verdict.answer else { return Self.reply(.internalServerError, "no answer") }
        let endpoint = route.endpoint
        var logger = logger
        if case .refused(let refusal) = verdict {
            return refuse(refusal.failure, outcome: refusal.outcome, route: route, logger: logger) { failure in
                refusal.stage == .limits ? failure : Diagnosis.annotated(failure, request: request, source: endpoint.source)
            }
        }
        metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: answer.outcome)
        if case .unsupported(_, let note) = verdict { logger[metadataKey: "hook.reason"] = "\(note)" }
        switch verdict {
        case .pong(let events), .ignored(let events), .unsupported(let events, _), .unmatched(let events):
            logger[metadataKey: "hook.event"] = "\(Verdict.names(events))"
        case .refused, .work:
            break
        }
        logger.info("\(answer.log)")
        return Self.reply(answer.status, answer.body)
    }

    /// Refuses a request, saying why in the log: every refusal is counted, but a flood of them is
    /// logged at a few lines a second (``LogAllowance``), so `explain` (the hints) runs only for those.
    private func refuse(
        _ failure: HookFailure, outcome: Outcome, route: Receiver.Route, logger: Logger, explain: (HookFailure) -> HookFailure = { $0 }
    ) -> Response {
        let endpoint = route.endpoint
        metrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: outcome)
        if let unlogged = route.refusalLog.take() {
            let explained = explain(failure)
            var metadata: Logger.Metadata = ["hook.status": "\(failure.status.code)", "hook.reason": "\(explained.reason)"]
            if unlogged > 0 { metadata["hook.unlogged"] = "\(unlogged)" }
            logger.warning("refused a webhook: \(failure.message)", metadata: metadata)
        }
        return Self.reply(failure.status, failure.message)
    }

    static func reply(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status,
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message)))
    }
}
