import Foundation
import NIOHTTP1
import ServerGuards
import Synchronization
import Testing

@testable import LoadTester

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Bearer-token authentication")
struct TokenTests {
    static func tokenFile(_ token: String) throws -> URL {
        let file = try Fixture.temporaryDirectory().appendingPathComponent("token")
        try Data(token.utf8).write(to: file)
        return file
    }

    /// Replaces the file's content the way the kubelet updates a mounted Secret: a new file renamed over the old.
    static func rotate(_ file: URL, to token: String) throws {
        let next = file.deletingLastPathComponent().appendingPathComponent("token.next")
        try Data(token.utf8).write(to: next)
        #expect(rename(next.path, file.path) == 0)
    }

    @Test(
        "with a token file every path but /healthz needs Authorization: Bearer <token>, else 401 with WWW-Authenticate"
    )
    func required() async throws {
        let file = try Self.tokenFile("s3cret-token\n")
        var configuration = Fixture.configuration()
        configuration.tokenFile = file.path
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            #expect(try await Fixture.request(port, "/healthz", method: .GET) == (200, "OK"))
            for path in ["/metrics", "/gate/check", "/gate/open", "/", "/healthz/", "/anything"] {
                for headers in [
                    [], [("Authorization", "Bearer wrong")], [("Authorization", "Bearer s3cret-toke")],
                    [("Authorization", "Basic czNjcmV0LXRva2Vu")], [("Authorization", "s3cret-token")],
                ] as [[(String, String)]] {
                    let answer = try await Fixture.request(port, path, headers: headers, body: Fixture.payload())
                    #expect(answer.status == 401, "\(path) \(headers)")
                    #expect(answer.headers["WWW-Authenticate"] == ["Bearer realm=\"fledge-loadtester\""])
                }
            }
            let bearer = [("Authorization", "Bearer s3cret-token")]
            #expect(try await Fixture.request(port, "/metrics", method: .GET, headers: bearer).status == 200)
            #expect(
                try await Fixture.request(port, "/gate/open", headers: bearer, body: Fixture.payload()).status == 202
            )
            let lower = [("Authorization", "bearer s3cret-token")]
            #expect(
                try await Fixture.request(port, "/gate/check", headers: lower, body: Fixture.payload()).status == 200
            )
            let task = Fixture.payload(metadata: ["type": "bash", "cmd": "echo authorized", "returnCmdOutput": "true"])
            let ran = try await Fixture.request(port, "/", headers: bearer, body: task)
            #expect(ran.status == 200)
            #expect(ran.body == "authorized\n")
        }
    }

    @Test("a rotated token takes effect without a restart, and the old one stops working")
    func rotation() async throws {
        let file = try Self.tokenFile("first")
        var configuration = Fixture.configuration()
        configuration.tokenFile = file.path
        configuration.tokenRecheckInterval = .zero
        try await Fixture.withLoadTester(configuration) { _, port async throws in
            let first = [("Authorization", "Bearer first")]
            let second = [("Authorization", "Bearer second")]
            #expect(try await Fixture.request(port, "/metrics", method: .GET, headers: first).status == 200)
            try Self.rotate(file, to: "second\n")
            #expect(try await Fixture.request(port, "/metrics", method: .GET, headers: first).status == 401)
            #expect(try await Fixture.request(port, "/metrics", method: .GET, headers: second).status == 200)
        }
    }

    @Test("the file is read again only once the recheck interval has passed; an emptied file keeps the last token")
    func recheckInterval() throws {
        let file = try Self.tokenFile("first")
        let base = ContinuousClock.now
        let elapsed = Mutex(Duration.zero)
        let token = try BearerTokenFile(path: file.path, recheckInterval: .seconds(2)) {
            base + elapsed.withLock { $0 }
        }
        #expect(token.accepts("Bearer first"))
        try Self.rotate(file, to: "second")
        elapsed.withLock { $0 = .seconds(1) }
        #expect(token.accepts("Bearer first"))
        #expect(!token.accepts("Bearer second"))
        elapsed.withLock { $0 = .seconds(2) }
        #expect(token.accepts("Bearer second"))
        #expect(!token.accepts("Bearer first"))
        try Self.rotate(file, to: " \n")
        elapsed.withLock { $0 = .seconds(5) }
        #expect(token.accepts("Bearer second"))
    }

    @Test("the comparison needs the whole token, nothing more, and never accepts an empty one")
    func comparison() {
        let expected = Array("s3cret".utf8)
        #expect(BearerTokenFile.constantTimeEqual(expected: expected, given: Array("s3cret".utf8)))
        #expect(!BearerTokenFile.constantTimeEqual(expected: expected, given: Array("s3cre".utf8)))
        #expect(!BearerTokenFile.constantTimeEqual(expected: expected, given: Array("s3cret!".utf8)))
        #expect(!BearerTokenFile.constantTimeEqual(expected: expected, given: Array("S3cret".utf8)))
        #expect(!BearerTokenFile.constantTimeEqual(expected: [], given: []))
    }

    @Test("a token file that is missing or empty stops the load tester from being created")
    func unreadable() throws {
        let empty = try Self.tokenFile("\n")
        for path in [empty.path, "/nonexistent/token"] {
            let error = try #require(throws: LoadTesterError.self) {
                _ = try LoadTester(configuration: LoadTesterConfiguration(tokenFile: path), logger: Fixture.quiet)
            }
            #expect(error.message == "the token file \"\(path)\" cannot be read or holds no token")
        }
    }
}
