/// The stored form of an event (in the delivery queue): `{"name", "kind", "git"|"image"|"pullRequest"}` (a trigger has only name and kind).
extension HookEvent: Codable {
    enum CodingKeys: String, CodingKey {
        case name, kind, git, image, pullRequest, release, bodyValues, headerValues
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        let kindName = try container.decode(String.self, forKey: .kind)
        let kind: Kind
        switch kindName {
        case "git-push": kind = .gitPush(try container.decode(GitPush.self, forKey: .git))
        case "image-push": kind = .imagePush(try container.decode(ImagePush.self, forKey: .image))
        case "pull-request": kind = .pullRequest(try container.decode(PullRequest.self, forKey: .pullRequest))
        case "release": kind = .release(try container.decode(Release.self, forKey: .release))
        case "trigger": kind = .trigger
        case "ping": kind = .ping
        default: kind = .other
        }
        self.init(
            name: name, kind: kind, bodyValues: try container.decodeIfPresent([String: String].self, forKey: .bodyValues) ?? [:],
            headerValues: try container.decodeIfPresent([String: String].self, forKey: .headerValues) ?? [:])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(kindName, forKey: .kind)
        if !bodyValues.isEmpty { try container.encode(bodyValues, forKey: .bodyValues) }
        if !headerValues.isEmpty { try container.encode(headerValues, forKey: .headerValues) }
        switch kind {
        case .gitPush(let push): try container.encode(push, forKey: .git)
        case .imagePush(let push): try container.encode(push, forKey: .image)
        case .pullRequest(let pullRequest): try container.encode(pullRequest, forKey: .pullRequest)
        case .release(let release): try container.encode(release, forKey: .release)
        case .trigger, .ping, .other: break
        }
    }
}
