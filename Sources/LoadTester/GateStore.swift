import Synchronization

/// Where the load tester keeps its gates, so that an approval survives a restart of the load tester.
///
/// Keys are `<kind>/<namespace>/<name>` (see ``GateKind/key(name:namespace:)``), values whether the gate is open.
/// ``save(_:)`` receives every open gate each time one changes (a closed gate is forgotten; entries saved as closed
/// by earlier versions are dropped when loaded); calls are never concurrent.
public protocol GateStore: Sendable {
    /// Returns the gates saved last, or an empty dictionary when none were.
    func load() async throws -> [String: Bool]
    /// Replaces the saved gates with these.
    func save(_ gates: [String: Bool]) async throws
}

/// The two families of named gates Flagger's load tester offers.
public enum GateKind: String, Sendable, CaseIterable {
    /// `/gate/check|open|close`: manual approval of a rollout, traffic increase or promotion.
    case gate
    /// `/rollback/check|open|close`: manual rollback of a release in progress.
    case rollback

    /// The key under which this kind of gate for a canary is stored: `<kind>/<namespace>/<name>`.
    public func key(name: String, namespace: String) -> String {
        "\(rawValue)/\(namespace)/\(name)"
    }
}

/// A ``GateStore`` in memory, for tests and for runs that need no persistence; share one instance between two
/// load testers to model a restart.
public final class MemoryGateStore: GateStore {
    private let state: Mutex<(gates: [String: Bool], saves: Int)>

    /// Creates a store holding these gates.
    public init(_ gates: [String: Bool] = [:]) {
        state = Mutex((gates, 0))
    }

    /// The gates saved last.
    public var gates: [String: Bool] { state.withLock { $0.gates } }

    /// How many times ``save(_:)`` was called.
    public var saveCount: Int { state.withLock { $0.saves } }

    /// The gates saved last.
    public func load() async throws -> [String: Bool] {
        state.withLock { $0.gates }
    }

    /// Keeps these gates and counts the save.
    public func save(_ gates: [String: Bool]) async throws {
        state.withLock { state in
            state.gates = gates
            state.saves += 1
        }
    }
}

/// The load tester's open gates: loaded from the store once, written back on every change, one save at a time so
/// that the last save always holds the newest state, and at most `capacity` of them.
actor GateBook {
    let store: (any GateStore)?
    let capacity: Int
    private var gates: [String: Bool] = [:]
    private var loaded: Bool
    private var saving = false
    private var saveWaiters: [CheckedContinuation<Void, Never>] = []

    init(store: (any GateStore)?, capacity: Int = .max) {
        self.store = store
        self.capacity = capacity
        self.loaded = store == nil
    }

    /// How many gates are open.
    var count: Int { gates.count }

    /// Loads the saved gates unless that was done; gates changed here before the load completes win.
    func loadIfNeeded() async throws {
        guard !loaded, let store else { return }
        let saved = try await store.load()
        guard !loaded else { return }
        gates = saved.filter(\.value).merging(gates) { _, local in local }
        loaded = true
    }

    /// Whether the gate is open; a gate never opened is closed. When the store cannot be read, gates changed
    /// since the start are still answered and all others read as closed.
    func isOpen(_ key: String) async -> (open: Bool, loadError: (any Error)?) {
        do {
            try await loadIfNeeded()
            return (gates[key] ?? false, nil)
        } catch {
            return (gates[key] ?? false, error)
        }
    }

    /// Opens or closes (forgets) a gate and saves all gates. Closing a gate that is not open changes and saves
    /// nothing. Throws when the store could not be read first or `capacity` gates are open (nothing is changed), or
    /// when the store could not be written (the change holds in memory).
    func set(_ key: String, open: Bool) async throws(GateBookError) {
        do {
            try await loadIfNeeded()
        } catch {
            throw .unreadable(error)
        }
        if open {
            guard gates[key] != nil || gates.count < capacity else { throw .full(capacity) }
            gates[key] = true
        } else {
            guard gates.removeValue(forKey: key) != nil else { return }
        }
        guard let store else { return }
        await acquireSaveTurn()
        defer { releaseSaveTurn() }
        do {
            try await store.save(gates)
        } catch {
            throw .unwritable(error)
        }
    }

    private func acquireSaveTurn() async {
        if !saving {
            saving = true
            return
        }
        await withCheckedContinuation { saveWaiters.append($0) }
    }

    private func releaseSaveTurn() {
        if saveWaiters.isEmpty {
            saving = false
        } else {
            saveWaiters.removeFirst().resume()
        }
    }
}

enum GateBookError: Error {
    case unreadable(any Error)
    case unwritable(any Error)
    /// This many gates are open, the limit.
    case full(Int)
}
