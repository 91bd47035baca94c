import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import JSONValue
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing

@testable import LoadTester

/// Log lines a test can read back.
final class LogRecorder: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    private let lines = Mutex<[Line]>([])

    var logger: Logger {
        Logger(label: "fledge.loadtester.test") { _ in Handler(recorder: self) }
    }

    var messages: [String] { lines.withLock { $0.map(\.message) } }

    func contains(_ text: String) -> Bool { messages.contains { $0.contains(text) } }

    fileprivate func append(_ line: Line) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(
                Line(
                    level: event.level,
                    message: "\(event.message)",
                    metadata: metadata.merging(event.metadata ?? [:]) { $1 }
                )
            )
        }
    }
}

enum Fixture {
    static let quiet = Logger(label: "fledge.loadtester.test") { _ in SwiftLogNoOpLogHandler() }

    /// Patterns for the harmless commands the tests run, beside the built-in program policies.
    static let testAllow = ["^sleep( |$)", "^echo( |$)", "^touch( |$)", "^true$", "^false$", "^cat( |$)"]

    /// Bash scripts the tests run.
    static let testAllowBash = ["^echo ", "^sleep [0-9]+$", "^true$", "^false$"]

    static func configuration(
        allow: [String] = testAllow,
        allowBash: [String] = testAllowBash,
        namespaceRegexp: String? = nil,
        timeout: Duration = .seconds(60),
        gateStore: (any GateStore)? = nil
    ) -> LoadTesterConfiguration {
        LoadTesterConfiguration(
            host: "127.0.0.1",
            port: 0,
            allow: allow,
            allowBash: allowBash,
            namespaceRegexp: namespaceRegexp,
            timeout: timeout,
            gateStore: gateStore
        )
    }

    /// A Flagger webhook payload.
    static func payload(
        name: String = "podinfo",
        namespace: String = "prod",
        metadata: [String: String]? = nil
    ) -> String {
        var object: [String: JSONValue] = [
            "name": .string(name),
            "namespace": .string(namespace),
            "phase": "Progressing",
            "checksum": "6d4f8b9c",
        ]
        if let metadata {
            object["metadata"] = .object(metadata.mapValues { .string($0) })
        }
        return JSONValue.object(object).serialized()
    }

    /// Runs the services in a group, calls `body`, then shuts the group down gracefully.
    static func withServices<T>(_ services: [any Service], _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: quiet))
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }

    /// Runs a load tester on 127.0.0.1 and a free port.
    static func withLoadTester<T>(
        _ configuration: LoadTesterConfiguration = configuration(),
        logger: Logger = quiet,
        _ body: (LoadTester, Int) async throws -> T
    ) async throws -> T {
        let tester = try LoadTester(configuration: configuration, logger: logger)
        return try await withServices([tester]) {
            let port = try #require(await tester.port())
            return try await body(tester, port)
        }
    }

    static func request(
        _ port: Int,
        _ path: String,
        method: HTTPMethod = .POST,
        body: String? = nil
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// A request with extra headers, answering the response's headers too.
    static func request(
        _ port: Int,
        _ path: String,
        method: HTTPMethod = .POST,
        headers: [(String, String)],
        body: String? = nil
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    static func post(_ port: Int, _ path: String = "/", _ body: String) async throws -> (status: Int, body: String) {
        try await request(port, path, body: body)
    }

    /// The value of one series in Prometheus text, such as `fledge_loadtester_tasks_total{type="cmd"}`.
    static func metric(_ exposition: String, _ series: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// Polls until the condition holds or the time is up; returns whether it held.
    static func eventually(
        within limit: Duration = .seconds(10),
        _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loadtester-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A tiny HTTP server that counts and records the requests it gets.
final class Target: Sendable {
    struct Hit: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: String
    }

    private let hits = Mutex<[Hit]>([])
    let announcer = PortAnnouncer()

    var count: Int { hits.withLock { $0.count } }
    var recorded: [Hit] { hits.withLock { $0 } }

    fileprivate func record(_ hit: Hit) { hits.withLock { $0.append(hit) } }

    var application: some Service {
        let announcer = self.announcer
        return Application(
            responder: TargetResponder(target: self),
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in announcer.announce(channel.localAddress?.port ?? 0) },
            logger: Fixture.quiet
        )
    }

    /// Runs a target and a load tester side by side.
    static func withTargetAndLoadTester<T>(
        _ configuration: LoadTesterConfiguration = Fixture.configuration(),
        logger: Logger = Fixture.quiet,
        _ body: (Target, Int, LoadTester, Int) async throws -> T
    ) async throws -> T {
        let target = Target()
        let tester = try LoadTester(configuration: configuration, logger: logger)
        return try await Fixture.withServices([target.application, tester]) {
            let targetPort = try #require(await target.announcer.wait())
            let testerPort = try #require(await tester.port())
            return try await body(target, targetPort, tester, testerPort)
        }
    }
}

struct TargetResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let target: Target

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] = field.value
        }
        target.record(
            Target.Hit(
                method: request.method.rawValue,
                path: request.uri.path,
                headers: headers,
                body: String(buffer: body)
            )
        )
        return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "hello")))
    }
}

/// A gate store whose reads or writes fail.
final class FailingGateStore: GateStore {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "the store is down" }
    }

    let failLoad: Bool
    let failSave: Bool

    init(failLoad: Bool = false, failSave: Bool = false) {
        self.failLoad = failLoad
        self.failSave = failSave
    }

    func load() async throws -> [String: Bool] {
        if failLoad { throw Failure() }
        return [:]
    }

    func save(_ gates: [String: Bool]) async throws {
        if failSave { throw Failure() }
    }
}

/// A clock the test moves by hand: ``sleep(until:tolerance:)`` returns once ``advance(by:)`` passed its deadline,
/// and ``sleepers(atLeast:)`` waits until that many are asleep, so a test knows the code reached its next wait.
final class ManualTestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Int: Sleeper] = [:]
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (due, watchers) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if deadline <= state.now { return (true, []) }
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                        return (false, [])
                    }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (false, Self.satisfiedWatchers(&state))
                }
                if due { continuation.resume() }
                for watcher in watchers { watcher.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has come.
    func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// Returns once at least `count` callers are asleep on this clock.
    func sleepers(atLeast count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.sleepers.count >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    private static func satisfiedWatchers(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let count = state.sleepers.count
        let ready = state.watchers.filter { $0.count <= count }.map(\.continuation)
        state.watchers.removeAll { $0.count <= count }
        return ready
    }
}
