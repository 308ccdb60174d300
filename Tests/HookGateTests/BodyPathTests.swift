import Foundation
import Logging
import HookGateTestSupport
import Testing

@testable import HookGate

/// `$(hook.body.PATH)`: paths in dots and `[n]`, read from the body at acceptance, stored with
/// the events, rendered as whole strings.
@Suite struct BodyPathTests {
    let body = Fixtures.data("github-pull_request-opened.json")

    @Test func pathsReadStringsNumbersBooleansAndObjects() throws {
        let paths = ["pull_request.labels[0].name", "number", "pull_request.merged", "pull_request.head.repo.owner.login",
                     "pull_request.labels[9].name", "missing.key", "pull_request.milestone", "pull_request.labels[0]"].compactMap(BodyPath.init)
        #expect(paths.count == 8)
        let values = BodyPath.values(Set(paths), in: body)
        #expect(values["pull_request.labels[0].name"] == "bug")
        #expect(values["number"] == "2")
        #expect(values["pull_request.merged"] == "false")
        #expect(values["pull_request.head.repo.owner.login"] == "Codertocat")
        #expect(values["pull_request.labels[9].name"] == nil && values["missing.key"] == nil && values["pull_request.milestone"] == nil)
        #expect(values["pull_request.labels[0]"]?.hasPrefix(#"{"color":"d73a4a""#) == true)
        #expect(BodyPath.values(Set(paths), in: Data("not json".utf8)).isEmpty)
        for bad in ["", "a..b", "a.", ".a", "a[x]", "a[0", "a b", "a.[0]"] { #expect(BodyPath(bad) == nil, "\(bad)") }
    }

    @Test func templatesTakeBodyPathsAndRefuseMalformedOnes() throws {
        let template = try ObjectTemplate(yaml: """
            apiVersion: tekton.dev/v1
            kind: PipelineRun
            metadata: {generateName: run-}
            spec: {params: [{name: label, value: "$(hook.body.pull_request.labels[0].name)"}, {name: n, value: "#$(hook.body.number)"}]}
            """)
        #expect(template.bodyPaths == Set(["pull_request.labels[0].name", "number"].compactMap(BodyPath.init)))
        for bad in ["$(hook.body.)", "$(hook.body.a b)", "$(hook.body.a[x])", "$(hook.nope)"] {
            #expect(throws: TemplateError.self, "\(bad)") { try ObjectTemplate(yaml: "kind: PipelineRun\nspec: {x: \"\(bad)\"}\n") }
        }
    }

    @Test func valuesTravelThroughTheQueueAndRender() throws {
        let event = HookEvent(name: "pull_request", kind: .trigger, bodyValues: ["pull_request.labels[0].name": "bug", "number": "2"])
        let stored = HookEvent.storedJSON([event])
        #expect(try JSONDecoder().decode([HookEvent].self, from: Data(stored.utf8)) == [event])
        let template = try ObjectTemplate(yaml: "kind: PipelineRun\nspec: {label: \"$(hook.body.pull_request.labels[0].name)\", gone: \"$(hook.body.nothing.here)\"}\n")
        let context = NotifyContext(endpoint: "e", source: .gitHub, deliveryID: "d", logger: .init(label: "t"))
        let rendered = template.render(CreateNotifier.variables(event, context: context))
        #expect(rendered["spec"]?["label"]?.string == "bug")
        #expect(rendered["spec"]?["gone"]?.string == "", "a path the body does not have renders empty")
    }
}
