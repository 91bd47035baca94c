import AsyncHTTPClient
import Foundation
import JSONValue
import KubeModels
import NIOCore
import NIOHTTP1

/// One event of a watch stream.
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
    }

    public var kind: Kind
    public var object: JSONValue

    /// The object's `metadata.resourceVersion`, to resume from.
    public var resourceVersion: String? { object["metadata", "resourceVersion"]?.stringValue }
}

/// Splits a byte stream into newline-delimited JSON documents, however the documents were cut into chunks.
struct LineSplitter {
    private var pending: [UInt8] = []

    /// The complete lines in `chunk` plus whatever was left over before it; the unfinished tail is kept.
    mutating func lines(in chunk: some Sequence<UInt8>) -> [[UInt8]] {
        pending.append(contentsOf: chunk)
        var lines: [[UInt8]] = []
        var start = 0
        for index in pending.indices where pending[index] == 0x0A {
            if index > start { lines.append(Array(pending[start..<index])) }
            start = index + 1
        }
        pending.removeFirst(start)
        return lines
    }

    /// What is left after the stream ended, if it is not blank.
    var remainder: [UInt8]? { pending.allSatisfy { $0 == 0x20 || $0 == 0x0D } ? nil : pending }
}

extension KubeClient {
    /// Watches a collection from `resourceVersion` (or from now when `nil`), yielding events until the server ends
    /// the stream or `timeoutSeconds` pass. An `ERROR` event ends it with its ``KubeAPIError`` — `.gone` (410) means
    /// the version is too old: list again and watch from the list's resourceVersion. The request is made when the
    /// first event is asked for, and ends when iteration stops.
    public func watch(
        _ collectionPath: String,
        resourceVersion: String? = nil,
        labelSelector: String? = nil,
        fieldSelector: String? = nil,
        timeoutSeconds: Int = 300
    ) -> WatchSequence {
        var query = ["watch=true", "allowWatchBookmarks=true", "timeoutSeconds=\(timeoutSeconds)"]
        if let resourceVersion { query.append("resourceVersion=\(Self.escape(resourceVersion))") }
        if let labelSelector { query.append("labelSelector=\(Self.escape(labelSelector))") }
        if let fieldSelector { query.append("fieldSelector=\(Self.escape(fieldSelector))") }
        let request = KubeRequest(
            method: "GET",
            target: collectionPath + "?" + query.joined(separator: "&"),
            headers: [("Accept", "application/json"), ("User-Agent", "fledge/0.1")]
        )
        // A quiet watch is not a dead one: the server ends it at timeoutSeconds, and the deadline ends it if the
        // server does not.
        return WatchSequence(transport: transport, request: request, timeout: .seconds(timeoutSeconds + 30))
    }

    static func event(from line: [UInt8]) throws -> WatchEvent {
        let json: JSONValue
        do {
            json = try JSONValue(parsing: line)
        } catch {
            throw KubeAPIError(reason: .serverError, code: 200, message: "watch sent a line that is not JSON: \(error)")
        }
        let type = json["type"]?.stringValue ?? ""
        let object = json["object"] ?? .null
        if type == "ERROR" {
            let code = object["code"]?.intValue.map(Int.init) ?? 500
            throw KubeAPIError.from(code: code, body: object.serializedBytes(), retryAfter: nil)
        }
        guard let kind = WatchEvent.Kind(rawValue: type) else {
            throw KubeAPIError(
                reason: .serverError,
                code: 200,
                message: "watch sent an event of unknown type \"\(type)\""
            )
        }
        return WatchEvent(kind: kind, object: object)
    }
}

/// The events of one watch request, as an `AsyncSequence`.
public struct WatchSequence: AsyncSequence, Sendable {
    public typealias Element = WatchEvent

    let transport: any KubeTransport
    let request: KubeRequest
    let timeout: Duration

    public func makeAsyncIterator() -> Iterator { Iterator(sequence: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let sequence: WatchSequence
        var body: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator?
        var splitter = LineSplitter()
        var ready: [WatchEvent] = []
        var finished = false

        init(sequence: WatchSequence) { self.sequence = sequence }

        public mutating func next() async throws -> WatchEvent? {
            while ready.isEmpty {
                if finished { return nil }
                if body == nil {
                    let response = try await sequence.transport.stream(sequence.request, timeout: sequence.timeout)
                    guard response.status == 200 else {
                        var bytes: [UInt8] = []
                        for try await chunk in response.body where bytes.count < 1 << 20 { bytes += chunk }
                        throw KubeAPIError.from(
                            code: response.status,
                            body: bytes,
                            retryAfter: response.headers["retry-after"]
                        )
                    }
                    body = response.body.makeAsyncIterator()
                }
                if let chunk = try await body?.next() {
                    for line in splitter.lines(in: chunk) {
                        ready.append(try KubeClient.event(from: line))
                    }
                } else {
                    finished = true
                    if let rest = splitter.remainder { ready.append(try KubeClient.event(from: rest)) }
                }
            }
            return ready.removeFirst()
        }
    }
}
