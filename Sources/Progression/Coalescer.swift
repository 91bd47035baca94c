import Synchronization

/// Runs work per key at most once at a time, with a cap on the keys in flight.
///
/// A value submitted while its key's work runs replaces any value already waiting and runs next, so a burst of
/// submissions for one key costs at most two runs; beyond `limit` keys in flight, submissions are dropped and counted
/// (the worker's resync finds whatever they were about).
final class Coalescer<Value: Sendable>: Sendable {
    private struct State {
        /// Keys whose work runs, each with the value waiting to run next.
        var running: [String: Value?] = [:]
        var dropped = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(limit, 1) }

    /// Offers a value; true when the caller should start running `key` with it (then it must call
    /// ``next(after:)`` after each run until that returns nil).
    func submit(_ key: String, _ value: Value) -> Bool {
        state.withLock { state in
            if state.running[key] != nil {
                state.running[key] = .some(value)
                return false
            }
            guard state.running.count < limit else {
                state.dropped += 1
                return false
            }
            state.running[key] = .some(nil)
            return true
        }
    }

    /// The value that arrived for `key` while it ran, or nil (and the key is free again).
    func next(after key: String) -> Value? {
        state.withLock { state in
            guard case .some(.some(let waiting)) = state.running[key] else {
                state.running[key] = nil
                return nil
            }
            state.running[key] = .some(nil)
            return waiting
        }
    }

    /// Submissions dropped because `limit` keys were in flight.
    var droppedCount: Int { state.withLock { $0.dropped } }

    /// Runs `work` for `value` now and for every value that arrives for `key` meanwhile, when `submit` says so.
    func run(_ key: String, _ value: Value, _ work: (Value) async -> Void) async {
        var current = value
        while true {
            await work(current)
            guard let waiting = next(after: key) else { return }
            current = waiting
        }
    }
}
