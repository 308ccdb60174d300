import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// List and watch, as controllers follow objects: a list gives the objects and a
/// `resourceVersion`, a watch from it streams each change as one JSON line.
extension KubeClient {
    public struct WatchEvent: Sendable {
        /// `ADDED`, `MODIFIED`, `DELETED` (`BOOKMARK`s are not passed on).
        public var type: String
        /// The object, as JSON.
        public var object: Data
    }

    private func selectorQuery(_ labelSelector: String) -> String {
        "labelSelector=" + (labelSelector.addingPercentEncoding(withAllowedCharacters: Self.unreserved.subtracting(CharacterSet(charactersIn: "/"))) ?? labelSelector)
    }

    /// The objects of `resource` in `namespace` that `labelSelector` selects, as JSON, and the
    /// list's `resourceVersion` to watch from.
    func list(_ resource: KubeResource, namespace: String, labelSelector: String) async throws(KubeError) -> (items: [Data], resourceVersion: String) {
        let body = try await get(path: resource.path(namespace: namespace) + "?" + selectorQuery(labelSelector),
                                 call: .init(verb: "list", resource: resource, namespace: namespace))
        guard let list = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let items = list["items"] as? [[String: Any]] else {
            throw KubeError(reason: .other, code: 200, description: "the list of \(resource) in \(namespace) is not the JSON expected")
        }
        let version = (list["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? ""
        return (items.compactMap { try? JSONSerialization.data(withJSONObject: $0) }, version)
    }

    private func get(path: String, call: KubeError.Call) async throws(KubeError) -> Data {
        let request = await authorizedRequest(.GET, path)
        do {
            let response = try await http.execute(request, timeout: Self.timeout)
            let bytes = Data((try await response.body.collect(upTo: 64 << 20)).readableBytesView)
            guard (200..<300).contains(response.status.code) else { throw KubeError.from(status: Int(response.status.code), body: bytes, call: call) }
            return bytes
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError(reason: .unreachable, code: nil, description: "cannot reach the Kubernetes API at \(connection.server): \(error)")
        }
    }

    /// Watches from `resourceVersion` until the API server ends the watch (after about
    /// `timeoutSeconds`), calling `onEvent` for each change. Returns the last resourceVersion
    /// seen, to watch on from. Throws when the version is too old (410: list again) or the
    /// connection fails.
    func watch(
        _ resource: KubeResource, namespace: String, labelSelector: String, from resourceVersion: String, timeoutSeconds: Int = 60,
        onEvent: (WatchEvent) async -> Void
    ) async throws(KubeError) -> String {
        let call = KubeError.Call(verb: "watch", resource: resource, namespace: namespace)
        let path = resource.path(namespace: namespace) + "?watch=1&allowWatchBookmarks=true&" + selectorQuery(labelSelector)
            + "&resourceVersion=\(resourceVersion)&timeoutSeconds=\(timeoutSeconds)"
        let request = await authorizedRequest(.GET, path)
        var version = resourceVersion
        do {
            let response = try await http.execute(request, timeout: .seconds(Int64(timeoutSeconds + 30)))
            guard (200..<300).contains(response.status.code) else {
                let bytes = Data((try await response.body.collect(upTo: 1 << 20)).readableBytesView)
                throw KubeError.from(status: Int(response.status.code), body: bytes, call: call)
            }
            var pending = Data()
            for try await chunk in response.body {
                pending.append(contentsOf: chunk.readableBytesView)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex..<newline]
                    pending = Data(pending[pending.index(after: newline)...])
                    guard let event = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any], let type = event["type"] as? String,
                          let object = event["object"] as? [String: Any] else { continue }
                    if type == "ERROR" {
                        let code = object["code"] as? Int ?? 500
                        throw KubeError(reason: .other, code: code, description: "the watch of \(resource) in \(namespace) ended: \(object["message"] as? String ?? "error \(code)")")
                    }
                    if let next = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String { version = next }
                    guard type != "BOOKMARK", let data = try? JSONSerialization.data(withJSONObject: object) else { continue }
                    await onEvent(WatchEvent(type: type, object: data))
                }
                if pending.count > 64 << 20 { throw KubeError(reason: .other, code: nil, description: "a watch event of \(resource) over 64 MiB") }
            }
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError(reason: .unreachable, code: nil, description: "the watch of \(resource) in \(namespace) failed: \(error)")
        }
        return version
    }
}
