import Foundation
import Hummingbird
import Logging
import NIOFoundationCompat

/// Answers `POST /hook/<segment>` (the endpoint's `id` or its key's fingerprint): admission →
/// bounded body → verify → parse → dispatch → one-line answer.
struct HookController: Sendable {
    let table: RouteTable
    let deliveries: Deliveries
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
        return await process(request, route: route, limits: receiver.limits, logger: logger)
    }

    /// The request admitted: read the body, verify, parse, dispatch.
    private func process(_ request: Request, route: Receiver.Route, limits: Limits, logger: Logger) async -> Response {
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

        let events: [HookEvent]
        do throws(HookFailure) {
            try await route.provider.verify(webhook)
            events = try route.provider.parse(webhook)
        } catch {
            return refuse(error, outcome: error.status == .unauthorized ? .unauthorized : .badRequest, route: route, logger: logger) {
                Diagnosis.annotated($0, request: webhook, source: endpoint.source)
            }
        }
        guard events.count <= limits.maxEventsPerDelivery else {
            return refuse(HookFailure(status: .contentTooLarge, message: "too many events in one delivery (\(events.count); at most \(limits.maxEventsPerDelivery))",
                                      reason: "the request carries \(events.count) events, more than limits.maxEventsPerDelivery (\(limits.maxEventsPerDelivery))"),
                          outcome: .tooManyEvents, route: route, logger: logger)
        }
        // Every accepted request has an id from here on (docs/delivery.md#delivery-ids).
        let senderID = DeliveryIdentity.senderID(route.provider.acceptedDeliveryID(of: webhook))
        let deliveryID = senderID ?? DeliveryIdentity.fresh()
        logger[metadataKey: "hook.delivery"] = "\(deliveryID)"

        let names = Set(events.map(\.name)).sorted().joined(separator: ",")
        logger[metadataKey: "hook.event"] = "\(names)"
        if events.contains(where: { $0.kind == .ping }) {
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .pong)
            logger.info("answered a ping")
            return Self.reply(.ok, "Pong")
        }
        let notifiable = events.filter(\.isNotifiable)
        guard !notifiable.isEmpty else {
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .ignored)
            logger.info("nothing to notify for this event")
            return Self.reply(.ok, "event \(names.isEmpty ? "(none)" : names) accepted; nothing to notify")
        }

        let work: [(notifier: any Notifier, events: [HookEvent])]
        switch route.select(notifiable) {
        case .work(let chosen):
            work = chosen
        case .unsupported(let note):
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .ignored)
            logger.info("the actions cannot act on this event", metadata: ["hook.reason": "\(note)"])
            return Self.reply(.ok, "event \(names) accepted; \(note)")
        case .unmatched:
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .unmatched)
            logger.info("no action's rule matches this event")
            return Self.reply(.ok, "event \(names) accepted; no action's rule matches it")
        }
        let context = NotifyContext(endpoint: endpoint.name, source: endpoint.source, deliveryID: deliveryID, logger: logger)
        let dedupeKeys = Deliveries.dedupeKeys(endpoint: endpoint.name, senderID: senderID, body: webhook.body, bodySigned: route.provider.signsBody(webhook))
        let result: DispatchResult
        do throws(DispatchError) {
            result = try await deliveries.dispatch(work, mode: endpoint.delivery, context: context, dedupeKeys: dedupeKeys)
        } catch {
            switch error {
            case .notify(let failure):
                let timedOut = failure.kind == .timeout
                HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: timedOut ? .downstreamTimeout : .downstreamError)
                logger.error("notification failed", metadata: ["hook.reason": "\(failure.detail)"])
                return timedOut
                    ? Self.reply(.gatewayTimeout, "timed out waiting for the downstream API")
                    : Self.reply(.badGateway, "the downstream API failed")
            case .storage(let failure):
                HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .unavailable)
                logger.error("cannot queue the notification", metadata: ["hook.reason": "\(failure)"])
                var response = Self.reply(.serviceUnavailable, "cannot store the notification; try again later")
                response.headers[.retryAfter] = "30"
                return response
            }
        }
        switch result {
        case .delivered:
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .notified)
            logger.info("notified", metadata: ["hook.events": "\(notifiable.count)"])
            return Self.reply(.ok, "OK")
        case .queued:
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .queued)
            logger.info("queued", metadata: ["hook.events": "\(notifiable.count)"])
            return Self.reply(.ok, "queued")
        case .duplicate:
            HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: .duplicate)
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
        HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: outcome)
        logger.debug("turned a request away: \(message)", metadata: ["hook.status": "\(status.code)"])
        var response = Self.reply(status, message)
        if let retryAfter {
            let seconds = retryAfter.components.seconds + (retryAfter.components.attoseconds > 0 ? 1 : 0)
            response.headers[.retryAfter] = "\(max(1, seconds))"
        }
        return response
    }

    /// Refuses a request, saying why in the log: every refusal is counted, but a flood of them is
    /// logged at a few lines a second (``LogAllowance``), so `explain` (the hints) runs only for those.
    private func refuse(
        _ failure: HookFailure, outcome: Outcome, route: Receiver.Route, logger: Logger, explain: (HookFailure) -> HookFailure = { $0 }
    ) -> Response {
        let endpoint = route.endpoint
        HookMetrics.request(endpoint: endpoint.name, source: endpoint.source, outcome: outcome)
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
