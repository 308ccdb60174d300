import Foundation
import Logging

/// Asks Flux to reconcile now, the way notification-controller's Receiver does: a merge patch of
/// the `reconcile.fluxcd.io/requestedAt` annotation onto each named object, or onto every object
/// of a kind whose labels match. An object that is not found is reported and the others are
/// still patched.
public struct ReconcileNotifier: Notifier {
    /// One entry of `objects:`.
    public struct Target: Sendable, Equatable {
        public var resource: KubeResource
        public var namespace: String
        /// One object; nil selects by `matchLabels`.
        public var name: String?
        public var matchLabels: [String: String]

        public init(resource: KubeResource, namespace: String, name: String?, matchLabels: [String: String] = [:]) {
            self.resource = resource
            self.namespace = namespace
            self.name = name
            self.matchLabels = matchLabels
        }
    }

    public let kind = "reconcile"
    public let target: String
    let objects: [Target]
    let client: KubeClient

    public static let annotation = "reconcile.fluxcd.io/requestedAt"

    public init(target: String, objects: [Target], client: KubeClient) {
        self.target = target
        self.objects = objects
        self.client = client
    }

    /// Every notification patches the same objects with "now", whatever the events: one pending
    /// request to reconcile covers any number of pushes.
    public func mergeKey(for events: [HookEvent]) -> String? { "reconcile" }

    public func notify(_ events: [HookEvent], context: NotifyContext) async throws(NotifyFailure) {
        let requestedAt = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        let patch = Data(#"{"metadata":{"annotations":{"\#(Self.annotation)":"\#(requestedAt)"}}}"#.utf8)
        var missing: [String] = []
        var patched: [String] = []
        for object in objects {
            do throws(KubeError) {
                let names: [String]
                if let name = object.name {
                    names = [name]
                } else {
                    names = try await client.listNames(object.resource, namespace: object.namespace, labels: object.matchLabels)
                    if names.isEmpty { missing.append("no \(object.resource.kind) in \(object.namespace) with labels \(object.matchLabels)") }
                }
                for name in names {
                    do throws(KubeError) {
                        try await client.mergePatch(object.resource, namespace: object.namespace, name: name, patch: patch)
                        patched.append("\(object.resource.kind) \(object.namespace)/\(name)")
                    } catch where error.reason == .notFound {
                        missing.append(error.description)
                    }
                }
            } catch {
                throw error.notifyFailure
            }
        }
        if !missing.isEmpty {
            context.logger.warning("some objects to reconcile were not found", metadata: ["reconcile.missing": "\(missing.joined(separator: "; "))"])
        }
        context.logger.info("requested reconciliation", metadata: ["reconcile.objects": "\(patched.joined(separator: ", "))", "reconcile.requestedAt": "\(requestedAt)"])
    }
}
