/// A release published on a git host: a tag with a name and notes, what Heighliner-style
/// pipelines build and ship from.
public struct Release: Sendable, Equatable, Codable {
    /// The repository's full name (`org/app`).
    public var fullName: String
    /// Its clone URL.
    public var repoURL: String
    public var tag: String
    /// The release's title; often empty, then the tag names it.
    public var name: String?
    /// The page a person opens to see it.
    public var url: String?
    /// What the tag was made from when the release created it (a branch or a commit).
    public var target: String?
    public var author: String?

    public init(fullName: String, repoURL: String, tag: String, name: String?, url: String?, target: String?, author: String?) {
        self.fullName = fullName
        self.repoURL = repoURL
        self.tag = tag
        self.name = name
        self.url = url
        self.target = target
        self.author = author
    }
}
