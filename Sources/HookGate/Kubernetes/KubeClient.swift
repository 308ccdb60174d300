import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// A small Kubernetes REST client: the calls hookgate's notifiers make, over AsyncHTTPClient.
public final class KubeClient: Sendable {
    public let connection: KubeConnection
    let http: HTTPClient
    private let tokenFile: TokenFile?

    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")

    /// Every call's limit.
    static let timeout: TimeAmount = .seconds(10)
    static let maxResponseBytes = 8 << 20

    public init(connection: KubeConnection) throws(KubeConfigError) {
        self.connection = connection
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = connection.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if case .clientCertificate(let certificate, let key) = connection.credentials {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubeConfigError("cannot use the certificates of \(connection.origin): \(error)")
        }
        if connection.insecureSkipTLSVerify { tls.certificateVerification = .none }
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        if case .tokenFile(let path) = connection.credentials { tokenFile = TokenFile(path: path) } else { tokenFile = nil }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Merge-patches one object.
    func mergePatch(_ resource: KubeResource, namespace: String, name: String, patch: Data) async throws(KubeError) {
        _ = try await send(.PATCH, resource.path(namespace: namespace, name: name), body: patch, contentType: "application/merge-patch+json",
                           call: .init(verb: "patch", resource: resource, namespace: namespace, name: name))
    }

    /// Names of the objects of `resource` in `namespace` whose labels match.
    func listNames(_ resource: KubeResource, namespace: String, labels: [String: String]) async throws(KubeError) -> [String] {
        try await listMetadata(resource, namespace: namespace, labels: labels).map(\.name)
    }

    /// The metadata of the objects of `resource` in `namespace` whose labels match.
    func listMetadata(_ resource: KubeResource, namespace: String, labels: [String: String]) async throws(KubeError) -> [ObjectMetadata] {
        let selector = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        var path = resource.path(namespace: namespace)
        if !selector.isEmpty {
            path += "?labelSelector=" + (selector.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? selector)
        }
        let body = try await send(.GET, path, call: .init(verb: "list", resource: resource, namespace: namespace))
        struct List: Decodable {
            struct Item: Decodable { var metadata: ObjectMetadata }
            var items: [Item]
        }
        guard let list = try? JSONDecoder().decode(List.self, from: body) else {
            throw KubeError(reason: .other, code: 200, description: "the list of \(resource) in \(namespace) is not the JSON expected")
        }
        return list.items.map(\.metadata)
    }

    /// What hookgate reads of an object it manages.
    struct ObjectMetadata: Decodable, Sendable {
        var name: String
        var labels: [String: String]?
        var annotations: [String: String]?
    }

    /// Creates an object, or merge-patches it with `object` when it exists already.
    func createOrPatch(_ resource: KubeResource, namespace: String, name: String, object: Data) async throws(KubeError) {
        do {
            try await create(resource, namespace: namespace, object: object, name: name)
        } catch where error.reason == .alreadyExists {
            try await mergePatch(resource, namespace: namespace, name: name, patch: object)
        }
    }

    /// Deletes an object; one that is gone already is not an error.
    func delete(_ resource: KubeResource, namespace: String, name: String) async throws(KubeError) {
        do {
            _ = try await send(.DELETE, resource.path(namespace: namespace, name: name), call: .init(verb: "delete", resource: resource, namespace: namespace, name: name))
        } catch where error.reason == .notFound {
            return
        }
    }

    /// One object, or nil when there is none.
    func get(_ resource: KubeResource, namespace: String, name: String) async throws(KubeError) -> Data? {
        do {
            return try await send(.GET, resource.path(namespace: namespace, name: name), call: .init(verb: "get", resource: resource, namespace: namespace, name: name))
        } catch where error.reason == .notFound {
            return nil
        }
    }

    /// Replaces an object (its `metadata.resourceVersion` makes this fail with a conflict when it
    /// changed since it was read).
    func replace(_ resource: KubeResource, namespace: String, name: String, object: Data) async throws(KubeError) {
        _ = try await send(.PUT, resource.path(namespace: namespace, name: name), body: object, contentType: "application/json",
                           call: .init(verb: "update", resource: resource, namespace: namespace, name: name))
    }

    /// Creates an object.
    func create(_ resource: KubeResource, namespace: String, object: Data, name: String?) async throws(KubeError) {
        _ = try await send(.POST, resource.path(namespace: namespace), body: object, contentType: "application/json",
                           call: .init(verb: "create", resource: resource, namespace: namespace, name: name))
    }

    /// A request to `path` with the connection's credentials.
    func authorizedRequest(_ method: HTTPMethod, _ path: String) async -> HTTPClientRequest {
        var request = HTTPClientRequest(url: connection.server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        switch connection.credentials {
        case .token(let token): request.headers.add(name: "Authorization", value: "Bearer " + token)
        case .tokenFile: if let token = await tokenFile?.current() { request.headers.add(name: "Authorization", value: "Bearer " + token) }
        case .clientCertificate, .none: break
        }
        return request
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = nil, call: KubeError.Call
    ) async throws(KubeError) -> Data {
        var request = await authorizedRequest(method, path)
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await http.execute(request, timeout: Self.timeout)
            let bytes = Data((try await response.body.collect(upTo: Self.maxResponseBytes)).readableBytesView)
            guard (200..<300).contains(response.status.code) else {
                throw KubeError.from(status: Int(response.status.code), body: bytes, call: call)
            }
            return bytes
        } catch let error as KubeError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw KubeError(reason: .timeout, code: nil, description: "\(connection.server) did not answer within 10 s")
        } catch {
            throw KubeError(reason: .unreachable, code: nil, description: "cannot reach the Kubernetes API at \(connection.server): \(error)")
        }
    }
}

/// A token file the kubelet rotates: read again when a minute old, as client-go does.
actor TokenFile {
    let path: String
    private var token: String?
    private var readAt = Date.distantPast

    static let maxAge: TimeInterval = 60

    init(path: String) {
        self.path = path
    }

    func current() -> String? {
        if token == nil || Date().timeIntervalSince(readAt) > Self.maxAge {
            if let data = FileManager.default.contents(atPath: path) {
                token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                readAt = Date()
            }
        }
        return token
    }
}
