import Foundation
import Hummingbird
import Logging

/// Answers `POST /hook/<segment>` (the endpoint's `id` or its key's fingerprint): admission →
/// bounded body → verify → parse → dispatch → one-line answer.
struct HookController: Sendable {
    let table: RouteTable
    let deliveries: Deliveries
    let gate = ConcurrencyGate()

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

        if let allowed = endpoint.allowFrom {
            let peer = context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
            let client = receiver.clientAddresses.client(peer: peer, forwardedFor: request.headers[values: .xForwardedFor])
            guard let client, allowed.contains(client) else {
                let from = client.map { "\($0)" } ?? "an address that cannot be told"
                return turnAway(.forbidden, "forbidden: this endpoint takes requests only from its allowFrom addresses, and this one came from \(from)",
                                outcome: .forbidden, endpoint: endpoint, logger: logger)
            }
        }
        guard gate.enter(limit: receiver.limits.maxConcurrentRequests) else {
            return turnAway(.tooManyRequests, "too many requests at once; retry in a second", retryAfter: .seconds(1),
                            outcome: .overloaded, endpoint: endpoint, logger: logger)
        }
        defer { gate.leave() }
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
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limits.maxBodyBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return refuse(HookFailure(status: .contentTooLarge, message: "body larger than \(limits.maxBodyBytes) bytes",
                                      reason: "the body exceeds limits.maxBodySize (\(limits.maxBodyBytes) bytes)"),
                          outcome: .tooLarge, route: route, logger: logger)
        } catch {
            logger.notice("could not read the request body", metadata: ["hook.reason": "\(error)"])
            return refuse(.badRequest("cannot read the body"), outcome: .badRequest, route: route, logger: logger)
        }

        let webhook = WebhookRequest(headers: request.headers, body: Data(body.readableBytesView))
        let deliveryID = route.provider.deliveryID(of: webhook)
        if let deliveryID { logger[metadataKey: "hook.delivery"] = "\(deliveryID)" }

        let events: [HookEvent]
        do throws(HookFailure) {
            try await route.provider.verify(webhook)
            events = try route.provider.parse(webhook)
        } catch {
            return refuse(error, outcome: error.status == .unauthorized ? .unauthorized : .badRequest, route: route, logger: logger) {
                Diagnosis.annotated($0, request: webhook, source: endpoint.source)
            }
        }

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
        let dedupeKey = Deliveries.dedupeKey(endpoint: endpoint.name, deliveryID: deliveryID, body: webhook.body)
        let result: DispatchResult
        do throws(DispatchError) {
            result = try await deliveries.dispatch(work, mode: endpoint.delivery, context: context, dedupeKey: dedupeKey)
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
