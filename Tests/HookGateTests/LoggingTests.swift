import Foundation
import HTTPTypes
import HookGate
import Logging
import Synchronization
import Testing

/// The text log format (what `--log-format text` writes) and the request pieces the hot path reads.
struct LoggingTests {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ data: Data) { lines.withLock { $0.append(String(decoding: data, as: UTF8.self)) } }
    }

    /// The same line swift-log's StreamLogHandler writes: time, level, label, sorted metadata,
    /// source, message; metadata set on the logger, given with the line, and an error.
    @Test func textLinesLookLikeStreamLogHandlers() throws {
        let lines = Lines()
        var logger = Logger(label: "hookgate") { TextLogHandler(label: $0, write: lines.append) }
        logger[metadataKey: "hook.source"] = "GitHub"
        logger[metadataKey: "hook.endpoint"] = "gh"
        #expect(lines.all.isEmpty, "setting metadata writes nothing")
        logger.warning("refused a webhook: invalid signature", metadata: ["hook.status": "401"], source: "HookGate")
        logger.debug("not written at info level")
        logger.info("plain", source: "HookGateCLI")
        #expect(lines.all.count == 2)
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} warning hookgate: hook.endpoint=gh hook.source=GitHub hook.status=401 \[HookGate\] refused a webhook: invalid signature\n$/#
        #expect(try pattern.wholeMatch(in: lines.all[0]) != nil, "\(lines.all[0])")
        #expect(lines.all[1].hasSuffix(" info hookgate: hook.endpoint=gh hook.source=GitHub [HookGateCLI] plain\n"), "\(lines.all[1])")
    }

    @Test func mediaTypeIsLowercasedWithoutParameters() {
        func mediaType(_ value: String?) -> String? {
            var headers = HTTPFields()
            if let value { headers[.contentType] = value }
            return WebhookRequest(headers: headers, body: Data()).mediaType
        }
        #expect(mediaType("application/json") == "application/json")
        #expect(mediaType(" Application/JSON ; charset=UTF-8") == "application/json")
        #expect(mediaType("\tapplication/x-www-form-urlencoded;") == "application/x-www-form-urlencoded")
        #expect(mediaType("") == "")
        #expect(mediaType(nil) == nil)
    }
}
