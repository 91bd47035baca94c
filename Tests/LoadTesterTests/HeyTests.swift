import Foundation
import NIOCore
import Testing

@testable import LoadTester

@Suite("The built-in hey")
struct HeyTests {
    @Test("-n 10 -c 2 sends exactly 10 requests")
    func exactCount() async throws {
        let target = Target()
        try await Fixture.withServices([target.application]) {
            let port = try #require(await target.announcer.wait())
            // The run returns when every request has been answered, so the count is final.
            let summary = try await LoadGenerator(logger: Fixture.quiet).run(
                try HeyCommand(commandLine: "hey -n 10 -c 2 http://127.0.0.1:\(port)/")
            )
            #expect(summary.requests == 10)
            #expect(target.count == 10)
        }
    }

    @Test("a hey cmd task is accepted at once and reaches its target")
    func throughTheLoadTester() async throws {
        try await Target.withTargetAndLoadTester { target, targetPort, _, port async throws in
            let cmd = "hey -n 10 -c 2 http://127.0.0.1:\(targetPort)/"
            #expect(try await Fixture.post(port, "/", Fixture.payload(metadata: ["cmd": cmd])) == (202, ""))
            #expect(await Fixture.eventually { target.count >= 10 })
        }
    }

    @Test(
        "-z 1s -q 20 -c 2 keeps sending for a second of its clock, never faster than the rate",
        .timeLimit(.minutes(2))
    )
    func durationAndRate() async throws {
        let target = Target()
        let clock = ManualTestClock()
        try await Fixture.withServices([target.application]) {
            let port = try #require(await target.announcer.wait())
            let command = try HeyCommand(commandLine: "hey -z 1s -q 20 -c 2 http://127.0.0.1:\(port)/")
            async let run = LoadGenerator(logger: Fixture.quiet).run(command, limit: .seconds(60), clock: clock)
            // 50 ms at a time for 950 ms (each of the two workers may send one request per step), then past the end.
            // (A worker whose next tick would be at or past -z's end stops without sleeping again.)
            for _ in 0..<19 {
                await clock.sleepers(atLeast: 1)
                clock.advance(by: .milliseconds(50))
            }
            clock.advance(by: .seconds(1))
            let summary = try await run
            #expect(summary.requests >= 3, "it kept sending")
            #expect(summary.requests <= 44, "at most 20 per second per worker over about a second")
            #expect(!summary.stoppedAtLimit)
        }
    }

    @Test("-m POST -d x -H \"X-A: b\" reach the target as given")
    func methodBodyHeaders() async throws {
        try await Target.withTargetAndLoadTester { target, targetPort, _, port async throws in
            let cmd = "hey -n 2 -c 1 -m POST -d x -H \"X-A: b\" -T text/plain http://127.0.0.1:\(targetPort)/echo"
            #expect(try await Fixture.post(port, "/", Fixture.payload(metadata: ["cmd": cmd])) == (202, ""))
            let reached = await Fixture.eventually { target.count >= 2 }
            #expect(reached)
            let hit = try #require(target.recorded.first)
            #expect(hit.method == "POST")
            #expect(hit.path == "/echo")
            #expect(hit.body == "x")
            #expect(hit.headers["x-a"] == "b")
            #expect(hit.headers["content-type"] == "text/plain")
            #expect(hit.headers["user-agent"] == "hey/0.0.1")
        }
    }

    @Test("bad hey flags are 400 naming the flag")
    func badFlags() async throws {
        try await Fixture.withLoadTester { _, port async throws in
            let (status, body) = try await Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["cmd": "hey -Q 5 http://x/"])
            )
            #expect(status == 400)
            #expect(body == "hey: flag provided but not defined: -Q")
            let (countStatus, countBody) = try await Fixture.post(
                port,
                "/",
                Fixture.payload(metadata: ["cmd": "hey -n 1 -c 5 http://x/"])
            )
            #expect(countStatus == 400)
            #expect(countBody == "hey: -n cannot be less than -c")
        }
    }

    @Test("the generator's summary counts responses, status codes and latencies")
    func summary() async throws {
        let target = Target()
        try await Fixture.withServices([target.application]) {
            let port = try #require(await target.announcer.wait())
            let generator = LoadGenerator(logger: Fixture.quiet)
            let summary = try await generator.run(
                try HeyCommand(commandLine: "hey -n 25 -c 5 http://127.0.0.1:\(port)/")
            )
            #expect(summary.requests == 25)
            #expect(summary.statusCodes == [200: 25])
            #expect(summary.errors.isEmpty)
            #expect(summary.bytesReceived == 25 * 5)
            let p50 = try #require(summary.p50)
            let p99 = try #require(summary.p99)
            #expect(p50 <= p99)
            #expect(!summary.stoppedAtLimit)
            #expect(summary.description.contains("[200]\t25 responses"))
            #expect(target.count == 25)
        }
    }

    @Test("requests that fail are counted as errors, not responses")
    func errors() async throws {
        let generator = LoadGenerator(logger: Fixture.quiet)
        let summary = try await generator.run(try HeyCommand(commandLine: "hey -n 3 -c 1 -t 5 http://127.0.0.1:1/"))
        // A refused connection is its own error, not a timeout at -t.
        #expect(!summary.errors.keys.contains { $0.lowercased().contains("time") })
        #expect(summary.requests == 3)
        #expect(summary.responses == 0)
        #expect(summary.errors.values.reduce(0, +) == 3)
        #expect(summary.p50 == nil)
    }

    @Test("a limit shorter than -z stops the run early and says so", .timeLimit(.minutes(2)))
    func limit() async throws {
        let target = Target()
        let clock = ManualTestClock()
        try await Fixture.withServices([target.application]) {
            let port = try #require(await target.announcer.wait())
            let generator = LoadGenerator(logger: Fixture.quiet)
            let command = try HeyCommand(commandLine: "hey -z 30s -q 10 -c 1 http://127.0.0.1:\(port)/")
            async let run = generator.run(command, limit: .milliseconds(500), clock: clock)
            // The worker waits for its first tick at 100 ms; at it, it sends one request and waits for the next.
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .milliseconds(100))
            await clock.sleepers(atLeast: 1)
            // Past the 500 ms limit, long before -z's 30 s are over.
            clock.advance(by: .seconds(1))
            let summary = try await run
            #expect(summary.stoppedAtLimit)
            #expect(summary.requests == 1)
            #expect(summary.elapsed == .milliseconds(1100))
        }
    }

    @Test("-z without a limit runs to its end by the clock, not stopped at a limit", .timeLimit(.minutes(2)))
    func durationEnds() async throws {
        let target = Target()
        let clock = ManualTestClock()
        try await Fixture.withServices([target.application]) {
            let port = try #require(await target.announcer.wait())
            let generator = LoadGenerator(logger: Fixture.quiet)
            let command = try HeyCommand(commandLine: "hey -z 2s -q 2 -c 1 http://127.0.0.1:\(port)/")
            async let run = generator.run(command, limit: .seconds(60), clock: clock)
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .milliseconds(500))
            await clock.sleepers(atLeast: 1)
            clock.advance(by: .seconds(2))
            let summary = try await run
            #expect(!summary.stoppedAtLimit)
            #expect(summary.requests == 1)
        }
    }
}
