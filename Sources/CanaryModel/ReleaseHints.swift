import Synchronization

/// A sign that a Deployment's pod template changed and a Canary targets it: the progression worker should look at that
/// Canary now rather than at its next tick.
public struct ReleaseHint: Sendable, Hashable {
    public var namespace: String
    /// The Deployment's name.
    public var name: String
    /// The Canaries (in `namespace`) that target it.
    public var canaries: [String]
    /// ``PodTemplateHash`` of the new template.
    public var templateHash: String

    public init(namespace: String, name: String, canaries: [String], templateHash: String) {
        self.namespace = namespace
        self.name = name
        self.canaries = canaries
        self.templateHash = templateHash
    }
}

/// The in-process channel from the admission gate to the progression worker.
///
/// Publishing never blocks an admission request: hints are buffered (the newest 1,024 kept) until consumed, and a
/// hint published with no consumer is dropped, since the worker's resync finds the release anyway. A hint identical
/// to one of the last 1,024 published (the API server may call the webhook twice for one write, and a hostile caller
/// may replay a review) is dropped too, so replays cost nothing downstream.
public final class ReleaseHints: Sendable {
    private let state = Mutex<State>(State())

    /// How many recent hints are remembered to drop repeats.
    static let remembered = 1024

    struct State {
        var continuations: [Int: AsyncStream<ReleaseHint>.Continuation] = [:]
        var nextID = 0
        var published = 0
        var dropped = 0
        /// Recent hints' keys, oldest first, and the same as a set.
        var recentOrder: [String] = []
        var recentNext = 0
        var recent: Set<String> = []
    }

    public init() {}

    /// Sends a hint to every current subscriber, unless it repeats a recent one.
    public func publish(_ hint: ReleaseHint) {
        let key = "\(hint.namespace)/\(hint.name)/\(hint.templateHash)"
        let continuations: [AsyncStream<ReleaseHint>.Continuation]? = state.withLock { state in
            // With no consumer the hint is dropped unremembered, so the same hint published later still arrives.
            guard !state.continuations.isEmpty else { return nil }
            guard state.recent.insert(key).inserted else {
                state.dropped += 1
                return nil
            }
            // A ring of the last `remembered` keys: the oldest leaves the set when a new one takes its place.
            if state.recentOrder.count < Self.remembered {
                state.recentOrder.append(key)
            } else {
                state.recent.remove(state.recentOrder[state.recentNext])
                state.recentOrder[state.recentNext] = key
                state.recentNext = (state.recentNext + 1) % Self.remembered
            }
            state.published += 1
            return Array(state.continuations.values)
        }
        for continuation in continuations ?? [] { continuation.yield(hint) }
    }

    /// How many consumers are subscribed now.
    public var subscriberCount: Int { state.withLock { $0.continuations.count } }

    /// How many hints have been published since start.
    public var publishedCount: Int { state.withLock { $0.published } }

    /// How many hints were dropped as repeats of a recent one.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    /// A stream of the hints published from now on; it ends when the consumer stops iterating.
    public func subscribe() -> AsyncStream<ReleaseHint> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: ReleaseHint.self,
            bufferingPolicy: .bufferingNewest(1024)
        )
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            state.continuations[state.nextID] = continuation
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.continuations.removeValue(forKey: id) }
        }
        return stream
    }
}
