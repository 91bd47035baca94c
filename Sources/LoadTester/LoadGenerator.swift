import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// What a load run did: how many requests, their status codes, errors and latencies.
public struct LoadSummary: Sendable, Equatable, CustomStringConvertible {
    /// Requests that got a response or failed; requests cut short by cancellation are not counted.
    public var requests: Int
    /// Responses by HTTP status code.
    public var statusCodes: [Int: Int]
    /// Failed requests (no response) by error.
    public var errors: [String: Int]
    /// From the first request sent to the last one finished.
    public var elapsed: Duration
    /// The quickest response.
    public var fastest: Duration?
    /// The slowest response.
    public var slowest: Duration?
    /// The mean response time.
    public var average: Duration?
    /// The median response time.
    public var p50: Duration?
    /// The 99th percentile response time.
    public var p99: Duration?
    /// Response body bytes received.
    public var bytesReceived: Int
    /// Whether the run was stopped by the time limit it was given rather than by its own `-n` or `-z`.
    public var stoppedAtLimit: Bool

    /// Requests that got a response, whatever its status.
    public var responses: Int { statusCodes.values.reduce(0, +) }

    /// Requests finished per second over the run.
    public var requestsPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(requests) / seconds : 0
    }

    /// `hey`'s report layout: summary, latency distribution, status codes, errors.
    public var description: String {
        func secs(_ duration: Duration?) -> String {
            String(format: "%.4f secs", duration?.seconds ?? 0)
        }
        var lines = [
            "Summary:",
            "  Total:\t\(secs(elapsed))",
            "  Slowest:\t\(secs(slowest))",
            "  Fastest:\t\(secs(fastest))",
            "  Average:\t\(secs(average))",
            String(format: "  Requests/sec:\t%.4f", requestsPerSecond),
            "  Total data:\t\(bytesReceived) bytes",
            "",
            "Latency distribution:",
            "  50% in \(secs(p50))",
            "  99% in \(secs(p99))",
            "",
            "Status code distribution:",
        ]
        for (code, count) in statusCodes.sorted(by: { $0.key < $1.key }) {
            lines.append("  [\(code)]\t\(count) responses")
        }
        if !errors.isEmpty {
            lines.append("")
            lines.append("Error distribution:")
            for (error, count) in errors.sorted(by: { $0.value > $1.value }) {
                lines.append("  [\(count)]\t\(error)")
            }
        }
        if stoppedAtLimit {
            lines.append("")
            lines.append("Stopped at the time limit.")
        }
        return lines.joined(separator: "\n")
    }
}

/// The built-in HTTP load generator: runs a ``HeyCommand`` with AsyncHTTPClient, `-c` workers each sending
/// requests one after another, paced at `-q` per second per worker, until `-n` requests were sent in all or `-z`
/// passed.
///
/// Like `hey`, it does not verify TLS certificates (load targets are usually in-cluster services with private
/// certificates) and follows up to 10 redirects unless told not to.
public final class LoadGenerator: Sendable {
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    /// Creates a generator whose HTTP clients run on `eventLoopGroup`.
    public init(
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        rewrite: @escaping @Sendable (String) -> String = { $0 }
    ) {
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.rewrite = rewrite
    }

    /// Maps the target URL to the address actually requested (the playground's simulated mesh).
    let rewrite: @Sendable (String) -> String

    /// Runs the command and reports what happened; stops early, with what was done so far, when `limit` passes
    /// or the calling task is cancelled. Throws only when the command's URL cannot be requested at all.
    public func run(_ command: HeyCommand, limit: Duration? = nil) async throws -> LoadSummary {
        try await run(command, limit: limit, clock: ContinuousClock())
    }

    /// ``run(_:limit:)`` on the given clock: `-z`, `-q` and `limit` are measured on it (tests move it by hand), and
    /// each request's own timeout is the real time left until the earlier of `-t` and `limit` by it.
    func run<C: Clock>(
        _ command: HeyCommand,
        limit: Duration?,
        clock: C
    ) async throws -> LoadSummary where C.Duration == Duration {
        let template = try makeRequest(command)
        var configuration = HTTPClient.Configuration()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        configuration.tlsConfiguration = tls
        configuration.redirectConfiguration = command.disableRedirects ? .disallow : .follow(max: 10, allowCycles: true)
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, command.concurrency)
        )
        // A refused connection is an error at once, as in hey, not a retry until the request times out.
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(
            eventLoopGroup: eventLoopGroup,
            configuration: configuration,
            backgroundActivityLogger: logger
        )

        let start = clock.now
        let plan = RunPlan<C>(
            start: start,
            end: command.duration.map { start.advanced(by: $0) },
            limit: limit.map { start.advanced(by: $0) },
            interval: Self.interval(queriesPerSecond: command.queriesPerSecond),
            requestTimeout: command.requestTimeout,
            remaining: command.duration == nil ? command.requests : nil
        )
        let tally = await withTaskGroup(of: Tally.self) { group in
            for _ in 0..<max(1, command.concurrency) {
                group.addTask { await Self.work(client: client, request: template, plan: plan, clock: clock) }
            }
            var total = Tally()
            for await part in group { total.merge(part) }
            return total
        }
        let elapsed = start.duration(to: clock.now)
        do {
            try await client.shutdown()
        } catch {
            logger.debug("load generator client shutdown failed", metadata: ["error": "\(error)"])
        }
        return tally.summary(elapsed: elapsed)
    }

    func makeRequest(_ command: HeyCommand) throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: rewrite(command.url))
        request.method = HTTPMethod(rawValue: command.method)
        request.headers.replaceOrAdd(name: "User-Agent", value: command.userAgent)
        request.headers.replaceOrAdd(name: "Content-Type", value: command.contentType)
        for header in command.headers {
            request.headers.replaceOrAdd(name: header.name, value: header.value)
        }
        if let accept = command.accept {
            request.headers.replaceOrAdd(name: "Accept", value: accept)
        }
        if let credentials = command.basicAuthentication {
            request.headers.replaceOrAdd(
                name: "Authorization",
                value: "Basic " + Data(credentials.utf8).base64EncodedString()
            )
        }
        if let host = command.hostHeader {
            request.headers.replaceOrAdd(name: "Host", value: host)
        }
        if command.disableKeepAlive {
            request.headers.replaceOrAdd(name: "Connection", value: "close")
        }
        if let body = command.body {
            request.body = .bytes(ByteBuffer(string: body))
        }
        return request
    }

    /// Time between one worker's requests at `-q` requests per second: `nil` for no limit, and never more than a
    /// day, so that no rate, however small, makes a `Duration` overflow.
    static func interval(queriesPerSecond: Double) -> Duration? {
        guard queriesPerSecond > 0, queriesPerSecond.isFinite else { return nil }
        return .seconds(min(1 / queriesPerSecond, 86_400))
    }

    /// The shared schedule of one run.
    final class RunPlan<C: Clock>: Sendable where C.Duration == Duration {
        let start: C.Instant
        /// When `-z` is over.
        let end: C.Instant?
        /// When the caller's limit is reached.
        let limit: C.Instant?
        /// Time between one worker's requests, from `-q`.
        let interval: Duration?
        let requestTimeout: Duration?
        /// Requests left to send, from `-n`; nil with `-z`.
        let remaining: Mutex<Int?>

        init(
            start: C.Instant,
            end: C.Instant?,
            limit: C.Instant?,
            interval: Duration?,
            requestTimeout: Duration?,
            remaining: Int?
        ) {
            self.start = start
            self.end = end
            self.limit = limit
            self.interval = interval
            self.requestTimeout = requestTimeout
            self.remaining = Mutex(remaining)
        }

        /// The earliest of `-z`'s end and the limit.
        var stop: C.Instant? {
            switch (end, limit) {
            case (let end?, let limit?): return min(end, limit)
            case (let end?, nil): return end
            case (nil, let limit?): return limit
            case (nil, nil): return nil
            }
        }

        /// Takes one request from the `-n` budget; false when none are left.
        func claim() -> Bool {
            remaining.withLock { left in
                guard let count = left else { return true }
                guard count > 0 else { return false }
                left = count - 1
                return true
            }
        }

        var budgetLeft: Bool { remaining.withLock { $0.map { $0 > 0 } ?? true } }
    }

    struct Tally: Sendable {
        var latencies: [Duration] = []
        var statusCodes: [Int: Int] = [:]
        var errors: [String: Int] = [:]
        var bytes = 0
        var stoppedAtLimit = false

        mutating func merge(_ other: Tally) {
            latencies += other.latencies
            statusCodes.merge(other.statusCodes, uniquingKeysWith: +)
            errors.merge(other.errors, uniquingKeysWith: +)
            bytes += other.bytes
            stoppedAtLimit = stoppedAtLimit || other.stoppedAtLimit
        }

        func summary(elapsed: Duration) -> LoadSummary {
            let sorted = latencies.sorted()
            func percentile(_ fraction: Double) -> Duration? {
                guard !sorted.isEmpty else { return nil }
                return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
            }
            let total = sorted.reduce(Duration.zero, +)
            return LoadSummary(
                requests: sorted.count + errors.values.reduce(0, +),
                statusCodes: statusCodes,
                errors: errors,
                elapsed: elapsed,
                fastest: sorted.first,
                slowest: sorted.last,
                average: sorted.isEmpty ? nil : total / sorted.count,
                p50: percentile(0.5),
                p99: percentile(0.99),
                bytesReceived: bytes,
                stoppedAtLimit: stoppedAtLimit
            )
        }
    }

    /// One worker: sends requests one after another until the budget, `-z` or the limit runs out.
    static func work<C: Clock>(
        client: HTTPClient,
        request: HTTPClientRequest,
        plan: RunPlan<C>,
        clock: C
    ) async -> Tally where C.Duration == Duration {
        var tally = Tally()
        var tick = plan.start
        let stop = plan.stop
        func pastLimit(_ instant: C.Instant) -> Bool {
            if let limit = plan.limit, instant >= limit, plan.end.map({ limit < $0 }) ?? true {
                return true
            }
            return false
        }
        while !Task.isCancelled {
            if let interval = plan.interval {
                // Like Go's time.Tick: a fixed schedule; ticks missed while a request was slow are dropped.
                tick = tick.advanced(by: interval)
                let now = clock.now
                if tick < now.advanced(by: .zero - interval) { tick = now }
                if let stop, tick >= stop {
                    if pastLimit(stop), plan.budgetLeft { tally.stoppedAtLimit = true }
                    break
                }
                if tick > now {
                    do {
                        try await clock.sleep(until: tick, tolerance: nil)
                    } catch {
                        break
                    }
                }
            }
            let now = clock.now
            if let stop, now >= stop {
                if pastLimit(now), plan.budgetLeft { tally.stoppedAtLimit = true }
                break
            }
            guard plan.claim() else { break }
            var deadline = plan.requestTimeout.map { now.advanced(by: $0) }
            if let limit = plan.limit { deadline = min(deadline ?? limit, limit) }
            let timeout = deadline.map { TimeAmount(now.duration(to: $0)) } ?? .hours(24 * 365)
            do {
                let response = try await client.execute(request, timeout: timeout)
                for try await chunk in response.body {
                    tally.bytes += chunk.readableBytes
                }
                tally.latencies.append(now.duration(to: clock.now))
                tally.statusCodes[Int(response.status.code), default: 0] += 1
            } catch {
                if Task.isCancelled { break }
                tally.errors[describe(error), default: 0] += 1
            }
        }
        return tally
    }

    /// A short, stable name for a request error, for the error distribution.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        self = .nanoseconds(nanoseconds.overflow ? .max : nanoseconds.partialValue + attoseconds / 1_000_000_000)
    }
}
