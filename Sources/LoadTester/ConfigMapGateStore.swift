import Foundation
import JSONValue
import KubeClient

/// Gates kept in a ConfigMap, so a restarted load tester remembers which gates were opened (Flagger keeps them in
/// memory and forgets them). Each gate is one `data` entry: key `<kind>.<namespace>.<name>`, value `open`/`closed`.
public final class ConfigMapGateStore: GateStore {
    let client: KubeClient
    let namespace: String
    let name: String

    public init(client: KubeClient, namespace: String, name: String = "fledge-loadtester-gates") {
        self.client = client
        self.namespace = namespace
        self.name = name
    }

    var path: String { "/api/v1/namespaces/\(namespace)/configmaps/\(name)" }

    /// ConfigMap keys allow `[-._a-zA-Z0-9]`, so the `/` of gate keys becomes `.`.
    static func dataKey(_ gate: String) -> String { gate.replacingOccurrences(of: "/", with: ".") }

    static func gateKey(_ dataKey: String) -> String? {
        let parts = dataKey.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3 else { return nil }
        return parts.joined(separator: "/")
    }

    public func load() async throws -> [String: Bool] {
        guard let configMap = try await client.getIfPresent(path) else { return [:] }
        var gates: [String: Bool] = [:]
        for (key, value) in configMap["data"]?.objectValue ?? [:] {
            guard let gate = Self.gateKey(key) else { continue }
            gates[gate] = value.stringValue == "open"
        }
        return gates
    }

    public func save(_ gates: [String: Bool]) async throws {
        var data: [String: JSONValue] = [:]
        for (gate, open) in gates { data[Self.dataKey(gate)] = .string(open ? "open" : "closed") }
        guard let existing = try await client.getIfPresent(path) else {
            do {
                _ = try await client.create(
                    "/api/v1/namespaces/\(namespace)/configmaps",
                    [
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": ["name": .string(name), "labels": ["app.kubernetes.io/name": "fledge-loadtester"]],
                        "data": .object(data),
                    ]
                )
                return
            } catch let error as KubeAPIError where error.reason == .alreadyExists {
                return try await save(gates)
            }
        }
        // The whole map is replaced: gates no longer present are removed with nulls (JSON merge patch).
        var patch = data
        for key in (existing["data"]?.objectValue ?? [:]).keys where data[key] == nil { patch[key] = .null }
        _ = try await client.patch(path, ["data": .object(patch)], type: .merge)
    }
}
