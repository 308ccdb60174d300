import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The GitHub API calls an App makes with its JWT: its installations, and a token for each.
public struct GitHubAppClient: Sendable {
    public struct Installation: Sendable, Equatable {
        public var id: Int
        /// The organization's or user's login.
        public var account: String
        /// Set while the installation is suspended: no token can be minted for it.
        public var suspended: Bool
    }

    public struct InstallationToken: Sendable {
        public var token: String
        public var expiresAt: Date
    }

    /// Why a call failed; never holds a token or the JWT.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Cause: String, Sendable {
            /// 401: the JWT was refused (wrong key or App id, or a clock far off).
            case unauthorized
            /// 403: refused (suspended installation, missing permission, rate limit).
            case forbidden
            /// 404: no such installation, or a wrong API URL.
            case notFound = "not_found"
            /// 5xx or an unexpected answer.
            case serverError = "server_error"
            case timeout
            case unreachable
        }

        public var cause: Cause
        public var description: String
    }

    let app: GitHubApp
    let jwt: AppJWT
    let client: HTTPClient
    let timeout: TimeAmount

    public init(app: GitHubApp, client: HTTPClient, timeout: TimeAmount = .seconds(15)) {
        self.app = app
        self.jwt = AppJWT(app: app)
        self.client = client
        self.timeout = timeout
    }

    /// Every installation of the App (`GET /app/installations`, 100 a page).
    public func installations() async throws(Failure) -> [Installation] {
        struct Entry: Decodable {
            struct Account: Decodable { var login: String? }
            var id: Int
            var account: Account?
            var suspended_at: String?
        }
        var all: [Installation] = []
        for page in 1... {
            let (_, body) = try await call(.GET, "/app/installations?per_page=100&page=\(page)", expecting: 200)
            guard let entries = try? JSONDecoder().decode([Entry].self, from: body) else {
                throw Failure(cause: .serverError, description: "\(app.apiURL)/app/installations answered with something that is not a list of installations")
            }
            all += entries.map { Installation(id: $0.id, account: $0.account?.login ?? "", suspended: $0.suspended_at != nil) }
            if entries.count < 100 || page >= 100 { break }
        }
        return all
    }

    /// A new installation token (`POST /app/installations/{id}/access_tokens`).
    public func token(installation: Int) async throws(Failure) -> InstallationToken {
        struct Answer: Decodable {
            var token: String
            var expires_at: String
        }
        let (_, body) = try await call(.POST, "/app/installations/\(installation)/access_tokens", expecting: 201)
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body),
              let expires = ISO8601DateFormatter().date(from: answer.expires_at) else {
            throw Failure(cause: .serverError, description: "\(app.apiURL) answered the token request for installation \(installation) without a token and its expiry")
        }
        return InstallationToken(token: answer.token, expiresAt: expires)
    }

    private func call(_ method: HTTPMethod, _ path: String, expecting status: UInt) async throws(Failure) -> (UInt, Data) {
        let bearer: String
        do {
            bearer = try jwt.token()
        } catch {
            throw Failure(cause: .unauthorized, description: "cannot sign the App's JWT with \(app.privateKeyPath): \(error)")
        }
        var request = HTTPClientRequest(url: app.apiURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer " + bearer)
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "X-GitHub-Api-Version", value: "2022-11-28")
        request.headers.add(name: "User-Agent", value: "hookgate")
        let what = "\(method.rawValue) \(app.apiURL)\(path.split(separator: "?").first.map(String.init) ?? path)"
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: 8 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw Failure(cause: .timeout, description: "\(what) did not answer within \(timeout.nanoseconds / 1_000_000) ms")
        } catch {
            throw Failure(cause: .unreachable, description: "\(what): \(error)")
        }
        let code = response.status.code
        guard code == status else {
            let message = (try? JSONDecoder().decode([String: String].self, from: Data(buffer: body)))?["message"].map { ": \($0)" } ?? ""
            let cause: Failure.Cause = switch code {
            case 401: .unauthorized
            case 403: .forbidden
            case 404: .notFound
            default: .serverError
            }
            let hint = switch cause {
            case .unauthorized: " (the App id or client id does not match the private key, the key was revoked, or this host's clock is far off)"
            case .notFound: " (no such installation, or apiURL is not the GitHub API: GitHub Enterprise Server's is https://HOST/api/v3)"
            default: ""
            }
            throw Failure(cause: cause, description: "\(what) answered \(code)\(message)\(hint)")
        }
        return (code, Data(buffer: body))
    }
}
