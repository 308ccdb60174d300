import Foundation
import HTTPTypes
import NIOCore
import NIOFoundationCompat

/// A verified request as the `forward` action sends it on: the body byte for byte, the query
/// string, and the headers it arrived with, less those that describe only the hop it came over
/// (RFC 9110 §7.6.1) and `Host`, plus `X-Forwarded-For`, `-Proto` and `-Host`.
///
/// Built once at acceptance; the queue stores it once however many backends it goes to.
public struct ForwardedRequest: Sendable, Equatable {
    public struct Header: Sendable, Equatable, Codable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public var body: ByteBuffer
    /// The query string without `?`; nil when the request had none.
    public var query: String?
    public var headers: [Header]

    public init(body: ByteBuffer, query: String?, headers: [Header]) {
        self.body = body
        self.query = query
        self.headers = headers
    }

    /// Headers that concern one connection only, never forwarded; so are those `Connection` names.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
    ]

    /// The request as received: `headers` and `body`, `query` from its URL, `client` the address
    /// it came from (the connection's peer), `authority` the host it was sent to.
    public init(headers: HTTPFields, body: ByteBuffer, query: String?, client: String?, authority: String?) {
        let named = Set(headers[values: .connection].flatMap { $0.split(separator: ",") }.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        })
        var kept: [Header] = []
        kept.reserveCapacity(headers.count + 3)
        for field in headers {
            let name = field.name.canonicalName
            if Self.hopByHop.contains(name) || named.contains(name) { continue }
            kept.append(Header(name: field.name.rawName, value: field.value))
        }
        // A proxy in front (the ingress) has already said where the request came from: extend its word.
        let forwardedFor = headers[values: .xForwardedFor].joined(separator: ", ")
        if let client {
            kept.append(Header(name: "X-Forwarded-For", value: forwardedFor.isEmpty ? client : forwardedFor + ", " + client))
        } else if !forwardedFor.isEmpty {
            kept.append(Header(name: "X-Forwarded-For", value: forwardedFor))
        }
        kept.append(Header(name: "X-Forwarded-Proto", value: headers[.xForwardedProto] ?? "http"))
        if let host = headers[.xForwardedHost] ?? authority {
            kept.append(Header(name: "X-Forwarded-Host", value: host))
        }
        self.init(body: body, query: query?.isEmpty == false ? query : nil, headers: kept)
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// Sets header `name` to `value`, replacing every value it had.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
        headers.append(Header(name: name, value: value))
    }

    /// Removes every value of header `name`.
    public mutating func removeHeader(_ name: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }

    /// The body as `Data`, for signing.
    var bodyData: Data {
        body.getData(at: body.readerIndex, length: body.readableBytes, byteTransferStrategy: .noCopy) ?? Data()
    }

    // MARK: Stored form

    private struct Head: Codable {
        var query: String?
        var headers: [Header]
    }

    /// Everything but the body, as the queue stores it: the document `Head`'s `Codable` reads,
    /// written by hand (`JSONEncoder` was 3.6% of a forwarded request).
    var storedHead: String {
        var json = JSONText()
        json.object { json in
            json.member("query", query)
            json.key("headers")
            json.array(headers) { json, header in
                json.object { json in
                    json.member("name", header.name)
                    json.member("value", header.value)
                }
            }
        }
        return json.text
    }

    /// The request the queue stored as `head` and `body`.
    init(storedHead head: String, body: [UInt8]) throws {
        let decoded = try JSONDecoder().decode(Head.self, from: Data(head.utf8))
        self.init(body: ByteBuffer(bytes: body), query: decoded.query, headers: decoded.headers)
    }
}

extension HTTPField.Name {
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let xForwardedHost = HTTPField.Name("X-Forwarded-Host")!
}
