import CanaryModel
import DevCluster
import DevClusterTestSupport
import Foundation
import JSONValue
import KubeClient
import Progression
import Synchronization
import Testing

/// The `gatewayapi:v1` provider against the embedded cluster: weights in an HTTPRoute, A/B testing by request
/// matches, blue/green mirroring, and the simulated mesh routing by those rules.
@Suite("Gateway API releases", .serialized)
struct GatewayScenarioTests {
    static let service: JSONValue = [
        "port": 9898,
        "gatewayRefs": [["name": "podinfo", "kind": "Service", "group": "core", "port": 9898]],
    ]
    static let route = "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/podinfo"

    func route(_ harness: ReleaseHarness) async throws -> JSONValue { try await harness.client.get(Self.route) }

    /// "primary/canary" weights of each rule, e.g. ["0/100", "100/-"].
    func rules(_ harness: ReleaseHarness) async throws -> [String] {
        (try await route(harness)["spec", "rules"]?.arrayValue ?? []).map { rule in
            let backends = rule["backendRefs"]?.arrayValue ?? []
            func weight(_ name: String) -> String {
                backends.first { $0["name"]?.stringValue == name }.map { String($0["weight"]?.intValue ?? 1) } ?? "-"
            }
            return "\(weight("podinfo-primary"))/\(weight("podinfo-canary"))"
        }
    }

    /// Which deployment answers each of `count` requests through the simulated mesh.
    func served(
        _ harness: ReleaseHarness,
        method: String = "GET",
        headers: [(name: String, value: String)] = [],
        count: Int = 10
    )
        -> [String: Int]
    {
        var served: [String: Int] = [:]
        for _ in 0..<count {
            if let response = harness.cluster.cluster.mesh.request(
                namespace: "default",
                service: "podinfo",
                method: method,
                path: "/",
                headers: headers
            ) {
                served[response.deployment, default: 0] += 1
            }
        }
        return served
    }

    @Test("weights move in one HTTPRoute rule with the parentRefs; idle ticks write nothing")
    func canaryWeights() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                ["stepWeight": 25, "maxWeight": 50],
                spec: ["provider": "gatewayapi:v1", "service": Self.service]
            )
            try await harness.initialise()
            let created = try await route(harness)
            #expect(
                created["spec", "parentRefs"] == [
                    ["name": "podinfo", "kind": "Service", "group": "core", "port": 9898]
                ]
            )
            #expect(created["spec", "rules"]?[0]?["matches"] == [["path": ["type": "PathPrefix", "value": "/"]]])
            #expect(try await rules(harness) == ["100/0"])
            let version = created["metadata", "resourceVersion"]
            try await harness.tick()
            try await harness.tick()
            #expect(try await route(harness)["metadata", "resourceVersion"] == version)

            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            var seen: [String] = []
            for _ in 0..<6 {
                try await harness.tick()
                seen.append("\(try await harness.phase() ?? "") \(try await rules(harness).joined(separator: ","))")
            }
            #expect(
                seen == [
                    "Progressing 100/0", "Progressing 75/25", "Progressing 50/50", "Promoting 50/50",
                    "Finalising 100/0", "Succeeded 100/0",
                ]
            )
        }
    }

    @Test("A/B testing: requests with the header go to the canary for each iteration, the rest stay on the primary")
    func abTesting() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                [
                    "stepWeight": nil, "maxWeight": nil, "iterations": 2,
                    "match": [
                        ["headers": ["x-canary": ["exact": "insider"]]],
                        ["headers": ["cookie": ["regex": "^(.*?;)?(canary=always)(;.*)?$"]]],
                    ],
                ],
                spec: ["provider": "gatewayapi:v1", "service": Self.service]
            )
            try await harness.initialise()
            let initial = try await route(harness)
            #expect(try await rules(harness) == ["100/0", "100/-"])
            #expect(
                initial["spec", "rules"]?[0]?["matches"]
                    == [
                        [
                            "path": ["type": "PathPrefix", "value": "/"],
                            "headers": [["name": "x-canary", "type": "Exact", "value": "insider"]],
                        ],
                        [
                            "path": ["type": "PathPrefix", "value": "/"],
                            "headers": [
                                [
                                    "name": "cookie", "type": "RegularExpression",
                                    "value": "^(.*?;)?(canary=always)(;.*)?$",
                                ]
                            ],
                        ],
                    ]
            )
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            try await harness.tick()
            #expect(try await rules(harness) == ["0/100", "100/-"])
            #expect(harness.messages.last == "Advance podinfo.default canary iteration 1/2")
            // The simulated mesh routes by the rules: insiders reach the canary, everyone else the primary.
            #expect(served(harness, headers: [("X-Canary", "insider")]) == ["podinfo": 10])
            #expect(served(harness, headers: [("Cookie", "canary=always; session=1")]) == ["podinfo": 10])
            #expect(served(harness) == ["podinfo-primary": 10])
            try await harness.tick()
            #expect(harness.messages.last == "Advance podinfo.default canary iteration 2/2")
            var phases: [String] = []
            for _ in 0..<3 {
                try await harness.tick()
                phases.append("\(try await harness.phase() ?? "") \(try await rules(harness).joined(separator: ","))")
            }
            #expect(phases == ["Promoting 0/100,100/-", "Finalising 100/0,100/-", "Succeeded 100/0,100/-"])
            #expect(served(harness, headers: [("X-Canary", "insider")]) == ["podinfo-primary": 10])
        }
    }

    @Test("service.match limits the route to the methods and paths it names")
    func serviceMatch() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            var service = Self.service
            service.setMember(["match"], [["method": ["exact": "GET"], "uri": ["prefix": "/"]]])
            try await harness.installCanary([:], spec: ["provider": "gatewayapi:v1", "service": service])
            try await harness.initialise()
            #expect(
                try await route(harness)["spec", "rules"]?[0]?["matches"]
                    == [["method": "GET", "path": ["type": "PathPrefix", "value": "/"]]]
            )
            #expect(served(harness) == ["podinfo-primary": 10])
            #expect(served(harness, method: "POST") == [:])
        }
    }

    @Test("an A/B selection Gateway API cannot express is rolled back, never given all the traffic")
    func abTestingUnroutable() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            // Only a webhook-bypassing client can store this: the admission webhook refuses it.
            try await harness.installCanary(
                ["stepWeight": nil, "maxWeight": nil, "iterations": 2, "match": [["sourceLabels": ["app": "web"]]]],
                spec: ["provider": "gatewayapi:v1", "service": Self.service]
            )
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            for _ in 0..<2 { try await harness.tick() }
            #expect(try await harness.phase() == "Failed")
            #expect(try await rules(harness).first == "100/0")
            #expect(
                harness.messages.contains(
                    "Rolling back podinfo.default A/B selection cannot be routed: spec.analysis.match[0].sourceLabels: "
                        + "Gateway API cannot match requests on sourceLabels; match on uri, method, headers or "
                        + "queryParams, or remove it"
                )
            )
        }
    }

    @Test("an A/B selection that becomes unroutable mid-release puts all traffic back on the primary at once")
    func abTestingBecomesUnroutable() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                [
                    "stepWeight": nil, "maxWeight": nil, "iterations": 3, "threshold": 5,
                    "match": [["headers": ["x-canary": ["exact": "insider"]]]],
                ],
                spec: ["provider": "gatewayapi:v1", "service": Self.service]
            )
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            #expect(try await rules(harness) == ["0/100", "100/-"])
            // The selection is edited past the webhook into one Gateway API cannot express, and the checks fail, so
            // the tick ends before the A/B step: the route's reconcile alone must keep the canary off every request.
            _ = try await harness.client.patch(
                "\(harness.canaries)/podinfo",
                ["spec": ["analysis": ["match": [["sourceLabels": ["app": "web"]]]]]],
                type: .merge
            )
            harness.receiver.state.value.withLock { $0 = nil }
            try await harness.tick()
            #expect(try await harness.phase() == "Progressing")
            #expect(try await rules(harness) == ["100/0"])
            #expect(served(harness) == ["podinfo-primary": 10])
        }
    }

    @Test("hostnames, filters and timeouts removed from the Canary are removed from the HTTPRoute")
    func removedMembers() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            var service = Self.service
            service.setMember(["hosts"], ["app.example.com"])
            service.setMember(["timeout"], "15s")
            service.setMember(["headers"], ["request": ["set": ["x-env": "prod"]]])
            try await harness.installCanary([:], spec: ["provider": "gatewayapi:v1", "service": service])
            try await harness.initialise()
            let before = try await route(harness)
            #expect(before["spec", "hostnames"] == ["app.example.com"])
            #expect(before["spec", "rules"]?[0]?["timeouts"] == ["request": "15s"])
            #expect(before["spec", "rules"]?[0]?["filters"]?[0]?["type"] == "RequestHeaderModifier")
            _ = try await harness.client.patch(
                "\(harness.canaries)/podinfo",
                ["spec": ["service": ["hosts": nil, "timeout": nil, "headers": nil]]],
                type: .merge
            )
            try await harness.tick()
            let after = try await route(harness)
            #expect(after["spec", "hostnames"] == nil)
            #expect(after["spec", "rules"]?[0]?["timeouts"] == nil)
            #expect(after["spec", "rules"]?[0]?["filters"] == nil)
            // And then it stays put.
            let version = after["metadata", "resourceVersion"]
            try await harness.tick()
            #expect(try await route(harness)["metadata", "resourceVersion"] == version)
        }
    }

    @Test("blue/green mirroring: the canary gets a copy of every request during the checks, then all the traffic")
    func mirroring() async throws {
        try await withHarness { harness in
            try await harness.installWorkload()
            try await harness.installCanary(
                ["stepWeight": nil, "maxWeight": nil, "iterations": 2, "mirror": true],
                spec: ["provider": "gatewayapi:v1", "service": Self.service]
            )
            try await harness.initialise()
            try await harness.setImage("ghcr.io/stefanprodan/podinfo:6.0.1")
            try await harness.tick()
            try await harness.tick()
            let mirrored = try await route(harness)
            #expect(try await rules(harness) == ["100/0"])
            #expect(
                mirrored["spec", "rules"]?[0]?["filters"]
                    == [
                        [
                            "type": "RequestMirror",
                            "requestMirror": [
                                "backendRef": ["group": "", "kind": "Service", "name": "podinfo-canary", "port": 9898]
                            ],
                        ]
                    ]
            )
            // Users are answered by the primary; the canary's proxy counts the copies.
            let before = harness.cluster.cluster.mesh.exposition()
            #expect(served(harness) == ["podinfo-primary": 10])
            let after = harness.cluster.cluster.mesh.exposition()
            #expect(Self.canaryResponses(after) == Self.canaryResponses(before) + 10)
            try await harness.tick()
            #expect(harness.messages.last == "Advance podinfo.default canary iteration 2/2")
            try await harness.tick()
            #expect(harness.messages.last == "Stop traffic mirroring and route all traffic to canary")
            let switched = try await route(harness)
            #expect(switched["spec", "rules"]?[0]?["filters"] == nil)
            #expect(try await rules(harness) == ["0/100"])
            try await harness.tick()
            #expect(try await harness.phase() == "Promoting")
        }
    }

    /// The canary deployment's inbound response count in the mesh's exposition.
    static func canaryResponses(_ exposition: String) -> Int {
        exposition.split(separator: "\n").filter {
            $0.hasPrefix("response_total{") && $0.contains(#"deployment="podinfo""#)
                && $0.contains(#"direction="inbound""#)
        }.reduce(0) { total, line in total + (Int(line.split(separator: " ").last ?? "") ?? 0) }
    }
}
