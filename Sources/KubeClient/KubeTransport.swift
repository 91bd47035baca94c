/// One request to the API server, independent of how it travels.
public struct KubeRequest: Sendable {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`.
    public var method: String
    /// The path with its query string, e.g. `/api/v1/namespaces/prod/pods?limit=500`.
    public var target: String
    /// Request headers (`Accept`, `Content-Type`, …); credentials are the transport's business.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String, target: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// The path without the query.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }

    /// The query's parameters, percent-decoded.
    public var queryItems: [(name: String, value: String)] {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        return parts[1].split(separator: "&").map { pair in
            let sides = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.decode(sides[0]), sides.count > 1 ? Self.decode(sides[1]) : "")
        }
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A whole answer.
public struct KubeResponse: Sendable {
    public var status: Int
    /// Header values by lower-cased name.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// An answer whose body arrives in chunks (a watch).
public struct KubeStreamingResponse: Sendable {
    public var status: Int
    /// Header values by lower-cased name.
    public var headers: [String: String]
    public var body: AsyncThrowingStream<[UInt8], any Error>

    public init(status: Int, headers: [String: String] = [:], body: AsyncThrowingStream<[UInt8], any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How a ``KubeClient`` reaches an API server: over HTTPS (``HTTPSTransport``) or, for tests and the playground, in
/// process (an embedded API server answering the same requests without a socket).
///
/// A transport adds the credentials; it throws only when the server cannot be reached (every HTTP status is an
/// answer, which the client classifies).
public protocol KubeTransport: Sendable {
    /// Where requests go, for messages (`https://10.0.0.1:6443`, `in-process`).
    var server: String { get }
    /// Sends a request and collects the whole answer within `timeout`.
    func send(_ request: KubeRequest, timeout: Duration) async throws -> KubeResponse
    /// Sends a request whose answer streams (a watch); `timeout` bounds the whole stream.
    func stream(_ request: KubeRequest, timeout: Duration) async throws -> KubeStreamingResponse
    /// Closes connections.
    func shutdown() async throws
}
