import Foundation
import Synchronization

/// The time a release runs on: wall-clock time (for status timestamps and deadlines) and sleeping, so tests can
/// drive releases in milliseconds and the demo can run N times faster.
public protocol ReleaseClock: Sendable {
    /// The current (possibly simulated) time.
    func now() -> Date
    /// Sleeps for `duration` of this clock's time.
    func sleep(for duration: Duration) async throws
    /// The time to write where people and other clients read it (status and event timestamps): the wall clock for a
    /// sped-up clock, so `kubectl get` shows true ages. Defaults to ``now()``.
    func timestamp() -> Date
    /// How much of this clock's time has passed since `timestamp`, a value ``timestamp()`` returned (deadlines such
    /// as `progressDeadlineSeconds` run on this). Defaults to `now()` minus `timestamp`.
    func elapsed(since timestamp: Date) -> TimeInterval
}

extension ReleaseClock {
    public func timestamp() -> Date { now() }
    public func elapsed(since timestamp: Date) -> TimeInterval { now().timeIntervalSince(timestamp) }
}

/// Real time sped up `speed` times: a 10 s interval passes in 10/speed seconds, and `now()` advances `speed` times
/// faster than the wall clock from the moment the clock was made. Timestamps it hands out for writing
/// (``timestamp()``) are the wall clock's, and ``elapsed(since:)`` measures from them in sped-up time, so deadlines
/// keep pace with the sleeps while users never see times in the future.
public struct ScaledClock: ReleaseClock {
    public let speed: Double
    let startDate: Date
    let startInstant: ContinuousClock.Instant

    public init(speed: Double = 1) {
        self.speed = max(speed, 0.001)
        startDate = Date()
        startInstant = ContinuousClock.now
    }

    public func now() -> Date {
        let elapsed = ContinuousClock.now - startInstant
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return startDate.addingTimeInterval(seconds * speed)
    }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration / speed)
    }

    public func timestamp() -> Date { Date() }

    public func elapsed(since timestamp: Date) -> TimeInterval {
        let seconds = Date().timeIntervalSince(timestamp) * speed
        return seconds.isFinite ? seconds : 0
    }
}

/// A clock tests move by hand: `sleep` returns once ``advance(by:)`` has moved time past its deadline, or at once when
/// its task is cancelled.
public final class ManualClock: ReleaseClock {
    struct State {
        var now: Date
        var nextID = 0
        var sleepers: [Int: (deadline: Date, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let state: Mutex<State>

    public init(start: Date = Date(timeIntervalSince1970: 1_767_225_600)) {
        state = Mutex(State(now: start))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many sleeps are waiting for the clock to move.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func advance(by duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let due = state.withLock { state in
            state.now = state.now.addingTimeInterval(seconds)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    public func sleep(for duration: Duration) async throws {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if seconds <= 0 || Task.isCancelled { return true }
                    state.sleepers[id] = (state.now.addingTimeInterval(seconds), continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume()
        }
        try Task.checkCancellation()
    }
}
