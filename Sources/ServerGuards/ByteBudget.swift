import Synchronization

/// A budget of bytes shared by the requests in flight: a request reserves what it will hold (its body, and through
/// it the work on it) before it reads the body, and gives it back when answered.
///
/// Reservations are granted in arrival order, so a large request is not starved by a stream of small ones. A request
/// larger than the whole budget reserves all of it. One that cannot be granted within its patience gets nothing, and
/// its caller answers "busy" instead of holding more memory than the budget allows.
public final class ByteBudget: Sendable {
    /// The bytes all reservations together may hold.
    public let capacity: Int

    private enum Slot {
        case waiting(bytes: Int, continuation: CheckedContinuation<Int?, Never>?)
        case granted(Int)
        case expired
    }

    private struct State {
        var inUse = 0
        var queue: [Int] = []
        var slots: [Int: Slot] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Creates a budget of `capacity` bytes (at least 1).
    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    /// Bytes reserved now.
    public var bytesInUse: Int { state.withLock { $0.inUse } }

    /// Reservations waiting now.
    public var waiting: Int { state.withLock { $0.queue.count } }

    /// Reserves `bytes` (clamped to 1...``capacity``), waiting up to `patience` for room; returns the bytes reserved,
    /// to hand back to ``release(_:)``, or `nil` when there was no room in time or the task was cancelled.
    public func reserve(_ bytes: Int, waitingAtMost patience: Duration) async -> Int? {
        let wanted = min(max(bytes, 1), capacity)
        let capacity = self.capacity
        let id: Int? = state.withLock { state in
            if state.queue.isEmpty && state.inUse <= capacity - wanted {
                state.inUse += wanted
                return nil
            }
            let id = state.nextID
            state.nextID += 1
            state.queue.append(id)
            state.slots[id] = .waiting(bytes: wanted, continuation: nil)
            return id
        }
        guard let id else { return wanted }
        guard patience > .zero, !Task.isCancelled else {
            expire(id)
            return await outcome(id)
        }
        return await withTaskGroup(of: Void.self, returning: Int?.self) { group in
            group.addTask {
                // Ends the wait when patience runs out, or when the reservation was granted and this is cancelled.
                try? await Task.sleep(for: patience)
                self.expire(id)
            }
            let granted = await withTaskCancellationHandler {
                await outcome(id)
            } onCancel: {
                self.expire(id)
            }
            group.cancelAll()
            return granted
        }
    }

    /// Gives back bytes a ``reserve(_:waitingAtMost:)`` returned, and grants waiting reservations that now fit.
    public func release(_ bytes: Int) {
        let resumed = state.withLock { state in
            state.inUse = max(state.inUse - bytes, 0)
            return grant(&state)
        }
        for (continuation, bytes) in resumed { continuation.resume(returning: bytes) }
    }

    private func outcome(_ id: Int) async -> Int? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int?, Never>) in
            let now: Int?? = state.withLock { state in
                switch state.slots[id] {
                case .waiting(let bytes, _):
                    state.slots[id] = .waiting(bytes: bytes, continuation: continuation)
                    return .none
                case .granted(let bytes):
                    state.slots[id] = nil
                    return .some(bytes)
                case .expired, nil:
                    state.slots[id] = nil
                    return .some(nil)
                }
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    private func expire(_ id: Int) {
        let resumed = state.withLock { state -> [(CheckedContinuation<Int?, Never>?, Int?)] in
            guard case .waiting(_, let continuation) = state.slots[id] else { return [] }
            state.queue.removeAll { $0 == id }
            if let continuation {
                state.slots[id] = nil
                // The expired one was perhaps at the head, holding back others that fit.
                return [(continuation, nil)] + grant(&state).map { ($0.0, $0.1) }
            }
            state.slots[id] = .expired
            return grant(&state).map { ($0.0, $0.1) }
        }
        for (continuation, bytes) in resumed { continuation?.resume(returning: bytes) }
    }

    /// Grants waiting reservations from the head of the queue while they fit; returns the waiters to resume.
    private func grant(_ state: inout State) -> [(CheckedContinuation<Int?, Never>, Int)] {
        var resumed: [(CheckedContinuation<Int?, Never>, Int)] = []
        while let id = state.queue.first, case .waiting(let bytes, let continuation) = state.slots[id],
            state.inUse <= capacity - bytes
        {
            state.queue.removeFirst()
            state.inUse += bytes
            if let continuation {
                state.slots[id] = nil
                resumed.append((continuation, bytes))
            } else {
                state.slots[id] = .granted(bytes)
            }
        }
        return resumed
    }
}
