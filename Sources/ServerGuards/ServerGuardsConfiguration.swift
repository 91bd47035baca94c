import NIOCore
import Synchronization

/// Limits that keep slow or numerous clients from holding a server's connections: how long a request head and a
/// request body may take to arrive, and how many connections may be open at once.
///
/// The header timeout runs from the moment a connection opens (so it covers the TLS handshake) and, on a kept-alive
/// connection, from the first bytes of each later request; the body timeout runs from a request's head to its end.
/// A connection that misses either is closed. A connection accepted beyond ``maximumConnections`` is closed at once.
public struct ServerGuardsConfiguration: Sendable, Equatable {
    /// Longest wait for a complete request head.
    public var headerTimeout: Duration
    /// Longest wait for a request body, from its head to its last byte.
    public var bodyTimeout: Duration
    /// Most connections open at once; more are closed as soon as they are accepted.
    public var maximumConnections: Int

    /// Creates limits; the defaults are 10 s for headers, 30 s for a body and 1,000 connections.
    public init(
        headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        maximumConnections: Int = 1000
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maximumConnections = maximumConnections
    }

    /// The problems with these limits, each naming the setting and the fix; empty when they are usable.
    public var problems: [String] {
        var problems: [String] = []
        if headerTimeout <= .zero {
            problems.append("header timeout: must be positive, got \(headerTimeout)")
        }
        if bodyTimeout <= .zero {
            problems.append("body timeout: must be positive, got \(bodyTimeout)")
        }
        if maximumConnections < 1 {
            problems.append("maximum connections: must be at least 1, got \(maximumConnections)")
        }
        return problems
    }
}

/// What a guard did, for metrics and logs.
public enum ServerGuardEvent: String, Sendable, Equatable, CaseIterable {
    /// A connection was closed at accept because ``ServerGuardsConfiguration/maximumConnections`` were open.
    case connectionRefused = "connection_limit"
    /// A connection was closed because a request head did not arrive in time.
    case headerTimeout = "header_timeout"
    /// A connection was closed because a request body did not arrive in time.
    case bodyTimeout = "body_timeout"
}

/// The guards of one server: its limits, the count of its open connections, and where to report what they did.
///
/// One instance per listening socket; every accepted connection of that socket goes through it.
public final class ServerGuards: Sendable {
    /// The limits in force.
    public let configuration: ServerGuardsConfiguration
    let report: @Sendable (ServerGuardEvent) -> Void
    private let open = Atomic<Int>(0)

    /// Creates guards; `report` is called (on an event loop, so it must be quick) for every connection a guard closes.
    public init(
        _ configuration: ServerGuardsConfiguration,
        report: @escaping @Sendable (ServerGuardEvent) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.report = report
    }

    /// Connections open now.
    public var openConnections: Int { open.load(ordering: .relaxed) }

    /// Counts a new connection in; false (and nothing counted) when the limit is reached.
    func admit() -> Bool {
        let limit = configuration.maximumConnections
        var current = open.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = open.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .relaxed
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Counts a connection out.
    func release() {
        open.subtract(1, ordering: .relaxed)
    }

    var headerTimeout: TimeAmount { Self.timeAmount(configuration.headerTimeout) }
    var bodyTimeout: TimeAmount { Self.timeAmount(configuration.bodyTimeout) }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .nanoseconds(seconds < 0 ? .min : .max) }
        let (total, overflowAdding) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return .nanoseconds(overflowAdding ? (whole < 0 ? .min : .max) : total)
    }
}
