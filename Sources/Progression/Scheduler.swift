import CanaryModel
import Foundation
import KubeModels
import Synchronization

/// Wakes a waiting loop early; a signal sent while nobody waits is remembered once.
final class Waker: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next signal (at once when one is pending) or when cancelled.
    func signalled() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                let waiter = state.waiter
                state.waiter = nil
                return waiter
            }
            waiter?.resume()
        }
    }

    /// Waits for a signal or for `duration` of `clock`'s time, whichever comes first.
    func wait(for duration: Duration, clock: any ReleaseClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await clock.sleep(for: duration) }
            group.addTask { await self.signalled() }
            await group.next()
            group.cancelAll()
        }
    }
}

/// One timer heap for every Canary: each ticks at its `analysis.interval`; a hint or a change runs it at once.
/// The same Canary never ticks twice at the same time.
final class Schedule: Sendable {
    struct Entry {
        var key: String
        var due: Date
        var interval: Duration
    }

    private struct State {
        var heap: [Entry] = []
        var index: [String: Date] = [:]
        var running: Set<String> = []
        var rerun: Set<String> = []
        /// Ticks running per namespace, for the fair share.
        var runningIn: [String: Int] = [:]
    }

    private let state = Mutex(State())
    let waker = Waker()

    /// The namespace part of a `namespace/name` key.
    static func namespace(of key: String) -> Substring {
        key.split(separator: "/", maxSplits: 1).first ?? ""
    }

    /// Adds or reschedules `key` to run at `due`, keeping the earlier of the two when it is already scheduled and
    /// `earliest` is set.
    func schedule(_ key: String, at due: Date, interval: Duration, earliest: Bool = false) {
        state.withLock { state in
            if earliest, let existing = state.index[key], existing <= due { return }
            state.index[key] = due
            Self.push(&state.heap, Entry(key: key, due: due, interval: interval))
        }
        waker.signal()
    }

    func remove(_ key: String) {
        _ = state.withLock { $0.index.removeValue(forKey: key) }
    }

    /// At most `limit` entries due at `now` (not already running), marked running, with at most `perNamespace`
    /// running in any one namespace; and when the next entry that could run falls due.
    ///
    /// An entry whose namespace has its share running stays due and runs when one of them finishes, so the
    /// Canaries of one namespace (one tenant's slow webhooks) never hold every slot.
    func takeDue(now: Date, limit: Int = .max, perNamespace: Int = .max) -> (due: [Entry], next: Date?) {
        state.withLock { state in
            var due: [Entry] = []
            var waiting: [Entry] = []
            while due.count < limit, let top = state.heap.first, top.due <= now {
                let entry = Self.pop(&state.heap)
                // Stale heap entries (rescheduled or removed keys) are dropped.
                guard state.index[entry.key] == entry.due else { continue }
                if state.running.contains(entry.key) {
                    // Due while its previous tick still runs: run again right after it.
                    state.index[entry.key] = nil
                    state.rerun.insert(entry.key)
                    continue
                }
                let namespace = String(Self.namespace(of: entry.key))
                if state.runningIn[namespace, default: 0] >= perNamespace {
                    waiting.append(entry)
                    continue
                }
                state.index[entry.key] = nil
                state.running.insert(entry.key)
                state.runningIn[namespace, default: 0] += 1
                due.append(entry)
            }
            guard !waiting.isEmpty else { return (due, state.heap.first?.due) }
            for entry in waiting { Self.push(&state.heap, entry) }
            // The next entry that could run (only when some wait for their namespace's share, which a finishing
            // tick frees and signals).
            var next: Date?
            for entry in state.heap where state.index[entry.key] == entry.due {
                guard state.runningIn[String(Self.namespace(of: entry.key)), default: 0] < perNamespace else {
                    continue
                }
                if next.map({ entry.due < $0 }) ?? true { next = entry.due }
            }
            return (due, next)
        }
    }

    /// Marks a tick done; true when the key fell due again meanwhile and should run at once.
    func finished(_ key: String) -> Bool {
        state.withLock { state in
            state.running.remove(key)
            let namespace = String(Self.namespace(of: key))
            let left = state.runningIn[namespace, default: 1] - 1
            state.runningIn[namespace] = left > 0 ? left : nil
            return state.rerun.remove(key) != nil
        }
    }

    var count: Int { state.withLock { $0.index.count } }

    static func push(_ heap: inout [Entry], _ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent].due <= heap[child].due { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    static func pop(_ heap: inout [Entry]) -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, heap[left].due < heap[smallest].due { smallest = left }
                if right < heap.count, heap[right].due < heap[smallest].due { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}

extension CanaryAnalysis {
    /// The tick interval: `interval` as a Go duration, 1m when absent, never below 10s.
    var tickInterval: Duration {
        let seconds = interval.flatMap { GoDuration($0) }?.seconds ?? 60
        return .seconds(max(seconds, 10))
    }
}
