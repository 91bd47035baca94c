import JSONValue
import KubeModels

/// A watch response: events as newline-separated JSON documents, ended by `timeoutSeconds`, by the client going
/// away, or by shutdown; never by idleness (kubectl get -w would quit).
public struct WatchBody: Sendable {
    let events: AsyncStream<StoreEvent>
    let inject: @Sendable (StoreEvent) -> Void
    let cancel: @Sendable () -> Void
    let encode: @Sendable (StoreEvent, _ first: Bool) -> [UInt8]
    let timeout: Duration?
    let bookmarkInterval: Duration?
    let currentRevision: @Sendable () -> Int64

    /// Writes events until the watch ends; `write` throwing (the client left) ends it too.
    public func run(_ write: ([UInt8]) async throws -> Void) async throws {
        defer { cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let timeout {
                let cancel = self.cancel
                group.addTask {
                    try await Task.sleep(for: timeout)
                    cancel()
                }
            }
            if let bookmarkInterval {
                let inject = self.inject
                let currentRevision = self.currentRevision
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: bookmarkInterval)
                        inject(
                            StoreEvent(
                                kind: .bookmark,
                                resource: "",
                                namespace: "",
                                name: "",
                                object: .null,
                                revision: currentRevision()
                            )
                        )
                    }
                }
            }
            var first = true
            for await event in events {
                try await write(encode(event, first))
                first = false
            }
            group.cancelAll()
        }
    }
}

extension DevCluster {
    func watchResponse(_ type: ResourceType, _ path: ResourcePath, _ request: APIRequest) throws -> APIResponse {
        let filter = try selectorFilter(type, request)
        let requested = request.query["resourceVersion"] ?? ""
        guard var from = requested.isEmpty ? 0 : Int64(requested) else {
            throw APIError.badRequest("resourceVersion: Invalid value: \"\(requested)\": must be an integer")
        }
        // A streaming list (client-go's WatchList, used by Helm 4 and kstatus): the current objects as ADDED
        // events, then a bookmark annotated k8s.io/initial-events-end, then changes. The state is never older than
        // the requested resourceVersion, since it is the newest.
        let initialEvents = request.query["sendInitialEvents"] == "true"
        if initialEvents { from = 0 }
        var timeout: Duration?
        if let seconds = request.query["timeoutSeconds"].flatMap(Int64.init), seconds > 0 {
            timeout = .seconds(seconds)
        }
        let table = request.wantsTable
        let bookmarks = request.query["allowWatchBookmarks"] == "true"
        let contentType = table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json"
        let watch:
            (events: AsyncStream<StoreEvent>, inject: @Sendable (StoreEvent) -> Void, cancel: @Sendable () -> Void)
        do {
            watch = try store.watch(
                resource: Self.bucket(type),
                namespace: path.namespace,
                from: from,
                initialEventsEnd: initialEvents,
                filter: filter
            )
        } catch {
            // kube-apiserver answers a watch from a compacted revision with 200 and one ERROR event.
            let (events, continuation) = AsyncStream<StoreEvent>.makeStream()
            continuation.yield(
                StoreEvent(kind: .bookmark, resource: "", namespace: "", name: "", object: .null, revision: 0)
            )
            continuation.finish()
            let status = APIError.expired(requested: from, current: store.revision).json
            let line: JSONValue = ["type": "ERROR", "object": status]
            return APIResponse(
                status: 200,
                contentType: contentType,
                body: .watch(
                    WatchBody(
                        events: events,
                        inject: { _ in },
                        cancel: {},
                        encode: { _, _ in line.serializedBytes() + [10] },
                        timeout: nil,
                        bookmarkInterval: nil,
                        currentRevision: { 0 }
                    )
                )
            )
        }
        let encode: @Sendable (StoreEvent, Bool) -> [UInt8] = { [weak self] event, first in
            guard let self else { return [] }
            var object = self.served(event.object, as: type)
            if event.kind == .bookmark {
                var metadata: [String: JSONValue] = ["resourceVersion": .string(String(event.revision))]
                if let annotations = event.object["metadata", "annotations"] { metadata["annotations"] = annotations }
                object = [
                    "kind": .string(table ? "Table" : type.kind),
                    "apiVersion": .string(table ? "meta.k8s.io/v1" : type.apiVersion),
                    "metadata": .object(metadata),
                ]
            } else if table {
                object = TableConvertor.table(
                    columns: self.columns(type),
                    rows: [(self.cells(type, event.object), event.object)],
                    resourceVersion: event.object["metadata", "resourceVersion"]?.stringValue ?? "",
                    includeHeaders: first
                )
            }
            let line: JSONValue = ["type": .string(event.kind.rawValue), "object": object]
            return line.serializedBytes() + [10]
        }
        let store = self.store
        return APIResponse(
            status: 200,
            contentType: contentType,
            body: .watch(
                WatchBody(
                    events: watch.events,
                    inject: watch.inject,
                    cancel: watch.cancel,
                    encode: encode,
                    timeout: timeout,
                    bookmarkInterval: bookmarks ? .seconds(5) : nil,
                    currentRevision: { store.revision }
                )
            )
        )
    }
}
