import Foundation
import HTTPTypes
import HookGate
import HookGateTestSupport
import Testing

/// Azure DevOps, the source added as one file and one registry line (docs/DESIGN.md, "Adding a
/// source"): the Microsoft sample payload, with basic authentication made by Python.
@Suite struct AzureDevOpsTests {
    static let key = "azure-devops-key-0123456789"
    let body = Fixtures.data("azuredevops-git.push.json")

    static func basic(user: String, password: String) -> String {
        "Basic " + Python.run("import base64, sys; print(base64.b64encode(sys.argv[1].encode()).decode())", arguments: [user + ":" + password])
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aPushWithTheKeyAsPassword() async throws {
        let events = try await receive(.azureDevOps, key: Self.key, headers: ["Authorization": Self.basic(user: "anyone", password: Self.key)], body: body)
        guard case .gitPush(let push) = events.first?.kind else { Issue.record("\(events)"); return }
        #expect(events.count == 1)
        #expect(push.ref == "refs/heads/main")
        #expect(push.fullName == "Fabrikam-Fiber-Git/Fabrikam-Fiber-Git")
        #expect(push.httpsURL == "https://dev.azure.com/fabrikam-fiber-inc/DefaultCollection/_git/Fabrikam-Fiber-Git")
        #expect(push.after == "33b55f7cb7e7e245323987634f960cf4a6e6bc74")
        #expect(Source(configName: "azurerepos") == .azureDevOps)
    }

    @Test func wrongOrMissingCredentialsAre401() async {
        for headers in [["Authorization": Self.basic(user: "anyone", password: "wrong")], [:], ["Authorization": "Bearer " + Self.key]] {
            let failure = await refusal(.azureDevOps, key: Self.key, headers: headers, body: body)
            #expect(failure?.status == .unauthorized, "\(headers)")
            expectNoSecrets(failure, key: Self.key, expected: [])
        }
    }

    @Test func otherEventsAreNotPushes() async throws {
        let events = try await receive(.azureDevOps, key: Self.key, headers: ["Authorization": Self.basic(user: "u", password: Self.key)],
                                       body: Fixtures.data("azuredevops-git.pullrequest.created.json"))
        #expect(events.map(\.name) == ["git.pullrequest.created"])
        #expect(events.allSatisfy { !$0.isNotifiable })
    }
}
