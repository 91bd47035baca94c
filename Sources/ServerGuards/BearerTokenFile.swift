import Foundation
import Synchronization

/// A bearer token kept in a file (a mounted Secret), shared by the servers that require one (the load tester,
/// `/metrics`) and the worker that sends one to the load tester: read at start, and again at most once per
/// ``recheckInterval`` so that a rotated Secret takes effect without a restart.
///
/// A file that cannot be read or is empty at start is a configuration error. Later, an unreadable or empty file
/// keeps the token read last (a mounted Secret is swapped atomically, so that only happens when something is wrong).
/// Tokens are compared in time that depends only on the expected token's length.
public final class BearerTokenFile: Sendable {
    public let path: String
    public let recheckInterval: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<(token: [UInt8], checked: ContinuousClock.Instant)>

    /// Reads the token; throws when the file cannot be read or holds none.
    public init(
        path: String,
        recheckInterval: Duration = .seconds(2),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) throws(BearerTokenFileError) {
        self.path = path
        self.recheckInterval = recheckInterval
        self.now = now
        guard let token = Self.read(path) else {
            throw BearerTokenFileError(path: path)
        }
        state = Mutex((token, now()))
    }

    /// The token, read again from the file when ``recheckInterval`` has passed since the last read.
    public var token: [UInt8] {
        let instant = now()
        let due = state.withLock { state in
            guard state.checked.duration(to: instant) >= recheckInterval else { return false }
            state.checked = instant
            return true
        }
        guard due, let fresh = Self.read(path) else { return state.withLock { $0.token } }
        state.withLock { $0.token = fresh }
        return fresh
    }

    /// Whether an `Authorization` header value carries the token: `Bearer <token>`, the scheme in any case.
    public func accepts(_ authorization: String?) -> Bool {
        guard let authorization else { return false }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return false }
        let given = Array(parts[1].utf8.drop { $0 == UInt8(ascii: " ") })
        return Self.constantTimeEqual(expected: token, given: given)
    }

    /// Compares in time that depends only on `expected.count`.
    public static func constantTimeEqual(expected: [UInt8], given: [UInt8]) -> Bool {
        var difference: UInt8 = expected.count == given.count ? 0 : 1
        for index in expected.indices {
            difference |= expected[index] ^ (index < given.count ? given[index] : 0)
        }
        return difference == 0 && !expected.isEmpty
    }

    /// The file's content without ASCII blanks at either end; `nil` when it cannot be read or is empty.
    static func read(_ path: String) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        let bytes = Array(data)
        guard let first = bytes.firstIndex(where: { !isBlank($0) }), let last = bytes.lastIndex(where: { !isBlank($0) })
        else { return nil }
        return Array(bytes[first...last])
    }
}

/// A token file that cannot be read or holds no token.
public struct BearerTokenFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var description: String { "the token file \"\(path)\" cannot be read or holds no token" }
}
