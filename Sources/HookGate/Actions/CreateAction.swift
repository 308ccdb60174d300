import Foundation
import Yams

/// `create` (or `tekton`): `{template | object, namespace, resource}`: creates an object (a
/// PipelineRun …) from a template for each event (``CreateNotifier``).
public struct CreateAction: ActionSpec {
    public var resource: KubeResource
    /// Nil: the template's namespace, else the connection's namespace.
    public var namespace: String?
    public var template: ObjectTemplate
    /// The template file as configured, or nil for an inline `object`.
    public var templateFile: String?
    /// Placeholders (`body.PATH`, `header.NAME`) an event must have a value for (`required:`);
    /// without one, the action fails for that delivery instead of rendering them empty.
    public var required: [String] = []
    /// `report: {context, url}`: set the created run's state on its commit (needs the endpoint's `gitAPI`).
    public var report: RunReport?

    public var kind: String { "create" }
    public var needsKubernetes: Bool { true }
    public var bodyPaths: Set<BodyPath> {
        template.bodyPaths.union(required.compactMap { $0.hasPrefix("body.") ? BodyPath(String($0.dropFirst(5))) : nil })
            // A report from a GitHub App endpoint is a check run made with the installation's token.
            .union(report == nil ? [] : ObjectTemplate.installationPaths)
    }

    public var headerNames: Set<String> {
        template.headerNames.union(required.compactMap { $0.hasPrefix("header.") ? String($0.dropFirst(7)) : nil })
    }

    public var definition: String {
        "create \(resource.apiVersion)/\(resource.plural) in \(namespace ?? "-") from \(templateFile ?? "an inline object")"
            + (report.map { " reporting \($0.context) \($0.url ?? "-")" } ?? "")
    }

    public var summary: String {
        "create \(resource.kind)\(namespace.map { " in " + $0 } ?? "")"
    }

    public func makeNotifiers(target: String, resources: ActionResources) throws(ConfigError) -> [any Notifier] {
        let kube = try resources.kubernetes()
        // An endpoint that receives a GitHub App's webhooks names its installations' Secrets.
        var secret: (@Sendable (Int, String) -> String)?
        if let app = resources.endpoint.notify.lazy.compactMap({ ($0.spec as? GitHubAppAction)?.app }).first {
            let naming = app.secrets
            secret = { installation, account in naming.name(installation: installation, account: account) }
        }
        var create = CreateNotifier(
            target: target, resource: resource, namespace: namespace ?? kube.connection.namespace, template: template, required: required,
            installationSecret: secret, client: kube)
        guard let report else { return [create] }
        let app = resources.endpoint.notify.lazy.compactMap({ ($0.spec as? GitHubAppAction)?.app }).first
        let api = resources.endpoint.gitHost?.api ?? nil
        guard api != nil || app != nil else {
            throw ConfigError(problems: [ConfigProblem(file: resources.file, line: resources.line,
                message: "`report` sets the run's state at the git host, and the endpoint has no `gitAPI`", fix: "add `gitAPI: {tokenPath: FILE}` to the endpoint")])
        }
        let status = StatusNotifier(
            target: StatusNotifier.target(for: target), resource: resource, report: report, endpoint: resources.endpoint, api: api, app: app,
            client: resources.client, kube: kube)
        create.report = (report, status.target)
        return [create, status]
    }

    static let kind = ActionKind(names: ["create", "tekton"]) { input in
        guard let options = input.options else {
            input.reader.problem("`\(input.path).\(input.name)` needs a `template` file or an inline `object`", at: input.node)
            return nil
        }
        return read(options, folder: input.folder)
    }

    private static func read(_ options: YAMLObject, folder: String) -> CreateAction? {
        let reader = options.reader
        options.rejectUnknownKeys(["template", "object", "namespace", "resource", "required", "report"])
        var report: RunReport?
        if let object = reader.object(options["report"], path: options.qualified("report")) {
            object.rejectUnknownKeys(["context", "url"])
            let url = object.string("url")
            if let url, !(url.hasPrefix("https://") || url.hasPrefix("http://") || url.hasPrefix("$(")) {
                reader.problem("`\(object.qualified("url"))` must be an http(s) URL template, not \"\(url)\"", at: object["url"],
                               fix: "for example https://dashboard.example.com/#/namespaces/$(object.namespace)/pipelineruns/$(object.name)")
            }
            if let context = object.string("context", required: true) {
                if context.count > 255 { reader.problem("`\(object.qualified("context"))` is longer than 255 characters", at: object["context"]) }
                report = RunReport(context: context, url: url)
            } else {
                return nil
            }
        }
        var required: [String] = []
        for node in options.sequence("required") ?? [] {
            let name = node.string ?? ""
            let valid = name.hasPrefix("body.") ? BodyPath(String(name.dropFirst(5))) != nil
                : name.hasPrefix("header.") ? ObjectTemplate.headerProblem(String(name.dropFirst(7))) == nil : false
            guard valid else {
                reader.problem("`\(options.qualified("required"))`: \"\(name)\" is not body.PATH (dots and [n]) or header.NAME", at: node,
                    fix: "for example `required: [body.pull_request.labels[0].name, header.X-GitHub-Hook-ID]`")
                return nil
            }
            required.append(name)
        }
        let template: ObjectTemplate
        let file = options.string("template")
        do {
            if let file {
                let path = file.hasPrefix("/") ? file : (folder as NSString).appendingPathComponent(file)
                reader.files.append(path)
                guard let data = FileManager.default.contents(atPath: path) else {
                    reader.problem("template file \"\(file)\" (\(path)) cannot be read", at: options["template"], fix: "the path is relative to the config file's folder")
                    return nil
                }
                template = try ObjectTemplate(yaml: String(decoding: data, as: UTF8.self))
            } else if let node = options["object"] {
                template = try ObjectTemplate(node: node)
            } else {
                reader.problem("`\(options.path)` needs a `template` file or an inline `object`", at: options.node)
                return nil
            }
        } catch {
            reader.problem("`\(options.path)`: the template is not usable: \(error)", at: options["template"] ?? options["object"])
            return nil
        }
        guard let resource = KubeResource.resolve(kind: template.kind, apiVersion: template.apiVersion, plural: options.string("resource")) else {
            reader.problem("`\(options.path)`: the template's kind \(template.kind) has no apiVersion", at: options.node)
            return nil
        }
        var action = CreateAction(resource: resource, namespace: options.string("namespace") ?? template.namespace, template: template, templateFile: file)
        action.required = required
        action.report = report
        return action
    }
}
