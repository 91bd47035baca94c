import Foundation
import JSONValue
import ServiceLifecycle
import Synchronization

/// Keeps the embedded cluster's objects in `objects.json` under a data directory: loaded at start, written (atomically)
/// shortly after changes and at shutdown, so a restarted playground still has them.
public final class DevClusterPersistence: Service, Sendable {
    let cluster: DevCluster
    let file: URL
    let dirty = Mutex(false)
    let interval: Duration

    /// Loads what the directory holds into `cluster` (creating the directory when needed).
    public init(cluster: DevCluster, directory: String, interval: Duration = .milliseconds(500)) throws {
        self.cluster = cluster
        self.interval = interval
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        file = URL(fileURLWithPath: directory).appendingPathComponent("objects.json")
        if let data = FileManager.default.contents(atPath: file.path) {
            let saved: JSONValue
            do { saved = try JSONValue(parsing: Array(data)) } catch {
                throw PersistenceError(description: "\(file.path) is not a Fledge playground snapshot: \(error)")
            }
            cluster.restore(
                (saved["objects"]?.arrayValue ?? []).compactMap { entry in
                    guard let resource = entry["resource"]?.stringValue, let object = entry["object"] else {
                        return nil
                    }
                    return (resource, object)
                }
            )
        }
        cluster.store.addListener { [weak self] _ in self?.dirty.withLock { $0 = true } }
    }

    struct PersistenceError: Error, CustomStringConvertible {
        var description: String
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            try save()
        }
        try save()
    }

    /// Writes the snapshot when something changed since the last one.
    public func save() throws {
        guard
            dirty.withLock({ value in
                defer { value = false }
                return value
            })
        else { return }
        let objects: [JSONValue] = cluster.store.everything().map {
            ["resource": .string($0.resource), "object": $0.object]
        }
        let snapshot: JSONValue = ["revision": .int(cluster.store.revision), "objects": .array(objects)]
        try Data(snapshot.serializedBytes()).write(to: file, options: .atomic)
    }
}

extension DevCluster {
    /// Puts persisted objects back and serves the kinds their CRDs declare.
    func restore(_ objects: [(resource: String, object: JSONValue)]) {
        // Namespaces created by init are replaced by the saved ones.
        store.restore(objects)
        for (resource, object) in objects where resource == "apiextensions.k8s.io/customresourcedefinitions" {
            guard let served = try? ResourceType.fromCRD(object) else { continue }
            for type in served { registry.register(type) }
        }
    }
}
