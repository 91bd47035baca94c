import Foundation
import JSONValue
import Synchronization
import Testing

@testable import DevCluster

/// A value shared between a test and the simulator's closures.
final class MeshTestBox<Value: Sendable>: Sendable {
    let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value {
        get { mutex.withLock { $0 } }
        set { mutex.withLock { $0 = newValue } }
    }
}

/// A mesh with a settable clock, routes and behaviours.
struct MeshTestWorld {
    let clock = MeshTestBox(1000.0)
    let routes = MeshTestBox<[String: [MeshBackend]]>([:])
    let behaviours = MeshTestBox<[String: MeshBehaviour]>([:])
    let mesh: MeshSimulator

    init() {
        let clock = clock
        let routes = routes
        let behaviours = behaviours
        mesh = MeshSimulator(
            now: { clock.value },
            route: { namespace, service in routes.value["\(namespace)/\(service)"] ?? [] },
            behaviour: { namespace, deployment in behaviours.value["\(namespace)/\(deployment)"] }
        )
    }

    /// `podinfo` in `prod` splitting between `podinfo-primary` and `podinfo` (the canary target), both healthy.
    static func podinfo(primary: Int = 100, canary: Int = 0) -> MeshTestWorld {
        let world = MeshTestWorld()
        world.routes.value["prod/podinfo"] = [
            MeshBackend(deployment: "podinfo-primary", weight: primary),
            MeshBackend(deployment: "podinfo", weight: canary),
        ]
        world.behaviours.value["prod/podinfo-primary"] = MeshBehaviour()
        world.behaviours.value["prod/podinfo"] = MeshBehaviour()
        return world
    }

    /// Sends `count` requests, one per simulated 0.1 s, and returns how many each deployment served.
    @discardableResult
    func send(_ count: Int, to service: String = "podinfo", path: String = "/") -> [String: Int] {
        var served: [String: Int] = [:]
        for _ in 0..<count {
            if let response = mesh.request(namespace: "prod", service: service, path: path) {
                served[response.deployment, default: 0] += 1
            }
            clock.value += 0.1
        }
        return served
    }
}

/// Flagger's request-success-rate query as its Linkerd provider writes it (tabs and newlines included).
func meshSuccessRateQuery(namespace: String = "prod", target: String = "podinfo", interval: String = "1m") -> String {
    """

    \tsum(
    \t\trate(
    \t\t\tresponse_total{
    \t\t\t\tnamespace="\(namespace)",
    \t\t\t\tdeployment=~"\(target)",
    \t\t\t\tclassification!="failure",
    \t\t\t\tdirection="inbound"
    \t\t\t}[\(interval)]
    \t\t)
    \t)\u{20}
    \t/\u{20}
    \tsum(
    \t\trate(
    \t\t\tresponse_total{
    \t\t\t\tnamespace="\(namespace)",
    \t\t\t\tdeployment=~"\(target)",
    \t\t\t\tdirection="inbound"
    \t\t\t}[\(interval)]
    \t\t)
    \t)\u{20}
    \t* 100
    """
}

/// Flagger's request-duration query as its Linkerd provider writes it.
func meshDurationQuery(namespace: String = "prod", target: String = "podinfo", interval: String = "1m") -> String {
    """

    \thistogram_quantile(
    \t\t0.99,
    \t\tsum(
    \t\t\trate(
    \t\t\t\tresponse_latency_ms_bucket{
    \t\t\t\t\tnamespace="\(namespace)",
    \t\t\t\t\tdeployment=~"\(target)",
    \t\t\t\t\tdirection="inbound"
    \t\t\t\t}[\(interval)]
    \t\t\t)
    \t\t) by (le)
    \t)
    """
}

/// The single sample value of a successful vector answer, `nil` for an empty vector.
func meshSampleValue(_ answer: (status: Int, body: JSONValue)) throws -> Double? {
    try #require(answer.status == 200, "query failed: \(answer.body.serialized())")
    try #require(answer.body["status"] == "success")
    try #require(answer.body["data", "resultType"] == "vector")
    let result = try #require(answer.body["data", "result"]?.arrayValue)
    guard let sample = result.first else { return nil }
    try #require(result.count == 1)
    try #require(sample["metric"] == [:])
    let text = try #require(sample["value"]?[1]?.stringValue)
    return Double(text)
}

@Suite("Mesh simulator")
struct MeshSimulatorTests {
    @Test(
        "weights route requests deterministically",
        arguments: [(100, 0, 10, 0), (50, 50, 5, 5), (0, 100, 0, 10), (90, 10, 9, 1)]
    )
    func meshRoutesByWeight(primary: Int, canary: Int, expectedPrimary: Int, expectedCanary: Int) {
        let world = MeshTestWorld.podinfo(primary: primary, canary: canary)
        let served = world.send(10)
        #expect(served["podinfo-primary", default: 0] == expectedPrimary)
        #expect(served["podinfo", default: 0] == expectedCanary)
    }

    @Test("an even split alternates between the backends")
    func meshEvenSplitAlternates() {
        let world = MeshTestWorld.podinfo(primary: 50, canary: 50)
        let order = (0..<6).compactMap { _ in
            world.mesh.request(namespace: "prod", service: "podinfo", path: "/")?.deployment
        }
        #expect(order == ["podinfo-primary", "podinfo", "podinfo-primary", "podinfo", "podinfo-primary", "podinfo"])
    }

    @Test("a service with no backends or only zero weights routes nowhere")
    func meshRoutesNowhere() {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 0)
        #expect(world.mesh.request(namespace: "prod", service: "podinfo", path: "/") == nil)
        #expect(world.mesh.request(namespace: "prod", service: "missing", path: "/") == nil)
        #expect(world.mesh.request(namespace: "dev", service: "podinfo", path: "/") == nil)
    }

    @Test("a backend without a behaviour answers 503 and records nothing")
    func meshMissingBehaviour() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = nil
        let response = world.mesh.request(namespace: "prod", service: "podinfo", path: "/")
        #expect(response == MeshResponse(status: 503, latencyMilliseconds: 0, deployment: "podinfo"))
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == nil)
    }

    @Test("a 60% behaviour fails exactly 2 requests in every 5 and the query reads 60")
    func meshSuccessRateSixty() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 60)
        var statuses: [Int] = []
        for _ in 0..<100 {
            let response = try #require(world.mesh.request(namespace: "prod", service: "podinfo", path: "/"))
            statuses.append(response.status)
            world.clock.value += 0.5
        }
        #expect(statuses.filter { $0 == 500 }.count == 40)
        #expect(statuses.filter { $0 == 200 }.count == 60)
        for start in stride(from: 0, to: 100, by: 5) {
            #expect(statuses[start..<start + 5].filter { $0 == 500 }.count == 2)
        }
        // 100 requests took 50 s, all inside a 1m window.
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == 60)
    }

    @Test("a healthy deployment reads 100 and the primary's failures do not count against the canary")
    func meshSuccessRateSeparatesDeployments() throws {
        let world = MeshTestWorld.podinfo(primary: 50, canary: 50)
        world.behaviours.value["prod/podinfo-primary"] = MeshBehaviour(successRate: 0)
        world.send(40)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(target: "podinfo"))) == 100)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(target: "podinfo-primary"))) == 0)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(target: "podinfo.*"))) == 50)
    }

    @Test(
        "the deployment matcher is a full-match regex",
        arguments: [
            ("podinfo", 100.0), ("podinfo-primary", 0.0), ("podinfo.*", 50.0), ("pod", nil), ("info", nil),
            ("podinfo|podinfo-primary", 50.0), ("podinfo-(primary|canary)", 0.0), (".*-primary", 0.0),
        ]
    )
    func meshRegexFullMatch(pattern: String, expected: Double?) throws {
        let world = MeshTestWorld.podinfo(primary: 50, canary: 50)
        world.behaviours.value["prod/podinfo-primary"] = MeshBehaviour(successRate: 0)
        world.send(20)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(target: pattern))) == expected)
    }

    @Test("the namespace must match exactly")
    func meshNamespaceMatch() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.send(10)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(namespace: "prod"))) == 100)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(namespace: "staging"))) == nil)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(namespace: "pro"))) == nil)
    }

    @Test("p99 of 1200 ms requests interpolates inside the 1000–2000 bucket")
    func meshSlowLatency() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(latencyMilliseconds: 1200)
        world.send(50)
        let p99 = try #require(try meshSampleValue(world.mesh.query(meshDurationQuery())))
        #expect(p99 > 1000 && p99 < 2500)
        #expect(abs(p99 - 1990) < 1e-9)
    }

    @Test("p99 of 20 ms requests stays under 50")
    func meshFastLatency() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.send(50)
        let p99 = try #require(try meshSampleValue(world.mesh.query(meshDurationQuery())))
        #expect(p99 < 50)
        #expect(p99 > 10)
    }

    @Test("p99 follows the slow tail when 2 requests in 100 are slow")
    func meshLatencyTail() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.send(98)
        world.send(2, path: "/delay/3")
        let p99 = try #require(try meshSampleValue(world.mesh.query(meshDurationQuery())))
        // 98 observations at 20 ms, 2 at 3020 ms: rank 99 falls in the 3000–4000 bucket.
        #expect(p99 > 3000 && p99 < 4000)
    }

    @Test("traffic older than the window is not counted")
    func meshWindowExcludesOldTraffic() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 0, latencyMilliseconds: 1200)
        world.send(10)  // 1000.0 ... 1000.9
        world.clock.value = 1030
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == 0)
        world.clock.value = 1061
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == nil)
        #expect(try meshSampleValue(world.mesh.query(meshDurationQuery())) == nil)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(interval: "2m"))) == 0)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(interval: "1m30s"))) == 0)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(interval: "45s"))) == nil)

        // New healthy traffic is counted alone once the bad traffic has left the window.
        world.behaviours.value["prod/podinfo"] = MeshBehaviour()
        world.send(10)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == 100)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(interval: "2m"))) == 50)
        #expect(try #require(try meshSampleValue(world.mesh.query(meshDurationQuery()))) < 50)
    }

    @Test("history older than an hour is dropped")
    func meshRetention() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 0)
        world.send(5)
        world.clock.value += 7200
        world.behaviours.value["prod/podinfo"] = MeshBehaviour()
        world.send(5)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery(interval: "3h"))) == 100)
    }

    @Test("the built-in queries of BEHAVIOUR.md §5 are understood exactly as written")
    func meshBuiltInQueryText() throws {
        let successRate =
            #"sum(rate(response_total{namespace="prod", deployment=~"podinfo", classification!="failure", "#
            + #"direction="inbound"}[1m])) / sum(rate(response_total{namespace="prod", deployment=~"podinfo", "#
            + #"direction="inbound"}[1m])) * 100"#
        let duration =
            #"histogram_quantile(0.99, sum(rate( response_latency_ms_bucket{namespace="prod", deployment=~"podinfo", "#
            + #"direction="inbound"}[1m])) by (le))"#
        #expect(
            try LinkerdQuery(parsing: successRate)
                == LinkerdQuery(kind: .requestSuccessRate, namespace: "prod", deployment: .regex("podinfo"), window: 60)
        )
        #expect(
            try LinkerdQuery(parsing: duration)
                == LinkerdQuery(
                    kind: .requestDuration(quantile: 0.99),
                    namespace: "prod",
                    deployment: .regex("podinfo"),
                    window: 60
                )
        )
        #expect(try LinkerdQuery(parsing: meshSuccessRateQuery()) == LinkerdQuery(parsing: successRate))
        #expect(try LinkerdQuery(parsing: meshDurationQuery()) == LinkerdQuery(parsing: duration))

        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 80, latencyMilliseconds: 250)
        world.send(20)
        #expect(try meshSampleValue(world.mesh.query(successRate)) == 80)
        let p99 = try #require(try meshSampleValue(world.mesh.query(duration)))
        #expect(p99 > 200 && p99 <= 300)
    }

    @Test(
        "equivalent spellings of the built-in queries are accepted",
        arguments: [
            #"100 * (sum(rate(response_total{direction="inbound",classification="success",deployment=~"podinfo","#
                + #"namespace="prod",}[60s])) / sum(rate(response_total{direction="inbound",namespace="prod","#
                + #"deployment=~"podinfo"}[60s])))"#,
            #"sum(rate(response_total{namespace='prod',deployment="podinfo",classification!="failure","#
                + #"direction="inbound"}[1m]))/sum(rate(response_total{namespace="prod",deployment="podinfo","#
                + #"direction="inbound"}[1m]))*100 # a comment"#,
            #"histogram_quantile(0.99, sum by (le) (rate(response_latency_ms_bucket{namespace="prod","#
                + #"deployment=~"podinfo",direction="inbound"}[1m])))"#,
        ]
    )
    func meshEquivalentSpellings(text: String) throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.send(10)
        let value = try meshSampleValue(world.mesh.query(text))
        #expect(value != nil)
    }

    @Test(
        "any other query is refused with Prometheus' bad_data error",
        arguments: [
            "",
            "up",
            "sum(",
            #"response_total{namespace="prod"}[1m]"#,
            #"sum(rate(response_total{namespace="prod",deployment=~"podinfo",direction="inbound"}[1m]))"#,
            #"sum(irate(response_total{namespace="prod",deployment=~"podinfo",classification!="failure","#
                + #"direction="inbound"}[1m])) / sum(irate(response_total{namespace="prod",deployment=~"podinfo","#
                + #"direction="inbound"}[1m])) * 100"#,
            #"sum(rate(response_total{namespace="prod",deployment=~"podinfo",classification!="failure","#
                + #"direction="inbound"}[1m])) / sum(rate(response_total{namespace="test",deployment=~"podinfo","#
                + #"direction="inbound"}[1m])) * 100"#,
            #"sum(rate(response_total{namespace="prod",deployment=~"podinfo",direction="inbound"}[1m])) / "#
                + #"sum(rate(response_total{namespace="prod",deployment=~"podinfo",direction="inbound"}[1m])) * 100"#,
            #"sum(rate(response_total{namespace="prod",deployment=~"podinfo",classification!="failure","#
                + #"direction="outbound"}[1m])) / sum(rate(response_total{namespace="prod",deployment=~"podinfo","#
                + #"direction="outbound"}[1m])) * 100"#,
            #"histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="prod","#
                + #"deployment=~"podinfo",direction="inbound"}[1m])))"#,
            #"histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="prod","#
                + #"deployment=~"podinfo",direction="inbound",pod="x"}[1m])) by (le))"#,
            #"histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="prod","#
                + #"deployment=~"podinfo",direction="inbound"}[1m] offset 5m)) by (le))"#,
            #"histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="prod","#
                + #"deployment=~"podinfo",direction="inbound"}[1x])) by (le))"#,
            #"histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="prod","#
                + #"deployment=~"(podinfo",direction="inbound"}[1m])) by (le))"#,
        ]
    )
    func meshRefusesOtherQueries(text: String) {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.send(10)
        let answer = world.mesh.query(text)
        #expect(answer.status == 400)
        #expect(answer.body["status"] == "error")
        #expect(answer.body["errorType"] == "bad_data")
        #expect(answer.body["data"] == nil)
        let message = answer.body["error"]?.stringValue ?? ""
        #expect(
            message.contains(
                "this simulated Prometheus answers only Flagger's built-in Linkerd queries request-success-rate and "
                    + "request-duration"
            ) || message.contains("invalid regular expression"),
            "\(message)"
        )
    }

    @Test("the answer has the shape of Prometheus' instant query JSON")
    func meshAnswerShape() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.send(10)
        world.clock.value = 1001
        let answer = world.mesh.query(meshSuccessRateQuery())
        let expected: JSONValue = [
            "status": "success",
            "data": ["resultType": "vector", "result": [["metric": [:], "value": [.double(1001), "100"]]]],
        ]
        #expect(answer.status == 200)
        #expect(answer.body == expected)
        let parsed = try JSONValue(parsing: answer.body.serialized())
        #expect(parsed == expected)

        world.clock.value += 600
        let empty = world.mesh.query(meshSuccessRateQuery())
        #expect(empty.body["data", "result"] == [])
    }

    @Test("a form-encoded query string is decoded like Prometheus' HTTP API does")
    func meshFormEncodedQuery() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 90)
        world.send(10)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = try #require(meshSuccessRateQuery().addingPercentEncoding(withAllowedCharacters: allowed))
        #expect(try meshSampleValue(world.mesh.query(formEncoded: "time=1&query=\(encoded)")) == 90)
        let plus =
            "query=sum(rate(response_total{namespace%3D%22prod%22,deployment%3D~%22podinfo%22,"
            + "classification!%3D%22failure%22,direction%3D%22inbound%22}[1m]))+/+sum(rate(response_total{"
            + "namespace%3D%22prod%22,deployment%3D~%22podinfo%22,direction%3D%22inbound%22}[1m]))+*+100"
        #expect(try meshSampleValue(world.mesh.query(formEncoded: plus)) == 90)
        #expect(world.mesh.query(formEncoded: "time=1").status == 400)
    }

    @Test("podinfo paths: /status/NNN answers NNN, /delay/N adds N seconds")
    func meshPodinfoPaths() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        let failed = try #require(world.mesh.request(namespace: "prod", service: "podinfo", path: "/status/500"))
        #expect(failed.status == 500)
        let notFound = try #require(world.mesh.request(namespace: "prod", service: "podinfo", path: "/status/404"))
        #expect(notFound.status == 404)
        let slow = try #require(world.mesh.request(namespace: "prod", service: "podinfo", path: "/delay/2?x=1"))
        #expect(slow.status == 200)
        #expect(slow.latencyMilliseconds == 2020)
        let plain = try #require(world.mesh.request(namespace: "prod", service: "podinfo", path: "/api/info"))
        #expect(plain == MeshResponse(status: 200, latencyMilliseconds: 20, deployment: "podinfo"))
        // 4xx is not a failure for Linkerd: 3 successes of 4.
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == 75)
    }

    @Test("podinfo's /token answers even from a revision that fails every request (the acceptance test's endpoint)")
    func meshToken() throws {
        let world = MeshTestWorld.podinfo(primary: 0, canary: 100)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 0, latencyMilliseconds: 20)
        for _ in 0..<5 {
            #expect(world.mesh.request(namespace: "prod", service: "podinfo", path: "/token")?.status == 200)
        }
        #expect(world.mesh.request(namespace: "prod", service: "podinfo", path: "/")?.status == 500)
    }

    @Test("recorded responses count like routed ones")
    func meshRecord() throws {
        let world = MeshTestWorld()
        world.mesh.record(namespace: "prod", deployment: "podinfo", status: 200, latencyMilliseconds: 5)
        world.mesh.record(namespace: "prod", deployment: "podinfo", status: 503, latencyMilliseconds: 5)
        #expect(try meshSampleValue(world.mesh.query(meshSuccessRateQuery())) == 50)
    }

    @Test("the exposition is valid Prometheus text with cumulative buckets")
    func meshExposition() throws {
        let world = MeshTestWorld.podinfo(primary: 50, canary: 50)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 50, latencyMilliseconds: 1200)
        world.send(20)
        world.send(2, path: "/status/404")
        world.send(2, path: "/delay/100")
        let text = world.mesh.exposition()
        #expect(text.hasSuffix("\n"))

        var help: Set<String> = []
        var types: [String: String] = [:]
        var samples: [(name: String, labels: [String: String], value: Double)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let words = line.split(separator: " ", maxSplits: 3)
            if line.hasPrefix("# HELP ") {
                try #require(words.count == 4, "\(line)")
                help.insert(String(words[2]))
            } else if line.hasPrefix("# TYPE ") {
                try #require(words.count == 4, "\(line)")
                types[String(words[2])] = String(words[3])
            } else {
                samples.append(try meshParseSample(line))
            }
        }
        #expect(help == ["response_total", "response_latency_ms"])
        #expect(types == ["response_total": "counter", "response_latency_ms": "histogram"])

        let responses = samples.filter { $0.name == "response_total" }
        #expect(responses.allSatisfy { $0.labels["direction"] == "inbound" && $0.labels["namespace"] == "prod" })
        let canary = responses.filter { $0.labels["deployment"] == "podinfo" }
        let byStatus = Dictionary(uniqueKeysWithValues: canary.map { ($0.labels["status_code"] ?? "", $0) })
        #expect(byStatus["200"]?.value == 6)
        #expect(byStatus["200"]?.labels["classification"] == "success")
        #expect(byStatus["500"]?.value == 5)
        #expect(byStatus["500"]?.labels["classification"] == "failure")
        #expect(byStatus["404"]?.labels["classification"] == "success")

        for deployment in ["podinfo", "podinfo-primary"] {
            let buckets = samples.filter {
                $0.name == "response_latency_ms_bucket" && $0.labels["deployment"] == deployment
            }
            let bounds = buckets.compactMap { $0.labels["le"] }
            #expect(bounds.count == 26)
            #expect(bounds.first == "1")
            #expect(bounds.last == "+Inf")
            #expect(bounds.dropLast().compactMap(Double.init) == meshLatencyBucketBounds)
            let counts = buckets.map(\.value)
            #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 <= $1 }, "buckets must be cumulative")
            let count = samples.first {
                $0.name == "response_latency_ms_count" && $0.labels["deployment"] == deployment
            }
            #expect(counts.last == count?.value)
            let total = responses.filter { $0.labels["deployment"] == deployment }.reduce(0) { $0 + $1.value }
            #expect(count?.value == total)
            #expect(samples.contains { $0.name == "response_latency_ms_sum" && $0.labels["deployment"] == deployment })
        }
        let canaryBuckets = samples.filter {
            $0.name == "response_latency_ms_bucket" && $0.labels["deployment"] == "podinfo"
        }
        let canaryValues = Dictionary(uniqueKeysWithValues: canaryBuckets.map { ($0.labels["le"] ?? "", $0.value) })
        #expect(canaryValues["1000"] == 0)
        #expect(canaryValues["2000"] == 11)
        #expect(canaryValues["50000"] == 11)
        #expect(canaryValues["+Inf"] == 12)
        let sum = samples.first { $0.name == "response_latency_ms_sum" && $0.labels["deployment"] == "podinfo" }
        let expectedSum: Double = 11 * 1200 + 101_200
        #expect(sum?.value == expectedSum, "\(String(describing: sum?.value.bitPattern)) \(expectedSum.bitPattern)")
    }

    @Test(
        "promtool accepts the exposition",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"))
    )
    func meshPromtool() throws {
        let world = MeshTestWorld.podinfo(primary: 50, canary: 50)
        world.behaviours.value["prod/podinfo"] = MeshBehaviour(successRate: 50)
        world.send(10)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(world.mesh.exposition().utf8))
        try input.fileHandleForWriting.close()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        // promtool's lint only objects to Linkerd's own naming (milliseconds, not seconds); parsing must succeed.
        let problems = report.split(separator: "\n").filter {
            !$0.contains("base unit") && !$0.contains("abbreviated units")
        }
        #expect(problems.isEmpty, "\(report)")
        #expect(!report.contains("error while linting"), "\(report)")
    }

    @Test("an empty mesh still exposes the families")
    func meshEmptyExposition() {
        let text = MeshTestWorld().mesh.exposition()
        #expect(text.contains("# TYPE response_total counter\n"))
        #expect(text.contains("# TYPE response_latency_ms histogram\n"))
        #expect(!text.contains("response_total{"))
    }

    @Test(
        "histogram_quantile interpolates like Prometheus",
        arguments: [
            (0.5, [1, 1, 2, 0], 2.0), (0.99, [1, 1, 2, 0], 3.96), (0.25, [4, 0, 0, 0], 0.25),
            (0.99, [0, 0, 0, 5], 4.0), (0.5, [0, 0, 0, 0], Double.nan), (1.5, [1, 0, 0, 0], Double.infinity),
        ] as [(Double, [UInt64], Double)]
    )
    func meshBucketQuantile(quantile: Double, counts: [UInt64], expected: Double) {
        let value = MeshSimulator.bucketQuantile(quantile, bounds: [1, 2, 4], counts: counts)
        if expected.isNaN {
            #expect(value.isNaN)
        } else {
            #expect(abs(value - expected) < 1e-9 || value == expected, "\(value)")
        }
    }

    @Test(
        "range durations parse like Prometheus'",
        arguments: [
            ("1m", 60.0), ("30s", 30.0), ("1h30m", 5400.0), ("500ms", 0.5), ("2h", 7200.0), ("1d", 86400.0),
            ("1x", nil), ("m", nil), ("", nil),
        ] as [(String, Double?)]
    )
    func meshDurations(text: String, seconds: Double?) {
        #expect(PromQLParser.parseDuration(text) == seconds)
    }
}

/// Parses `name{label="value",…} value` strictly, failing the test on anything else.
func meshParseSample(_ line: Substring) throws -> (name: String, labels: [String: String], value: Double) {
    let open = try #require(line.firstIndex(of: "{"), "no labels in \(line)")
    let close = try #require(line.lastIndex(of: "}"), "unterminated labels in \(line)")
    let name = String(line[..<open])
    try #require(!name.isEmpty && name.allSatisfy { $0.isLetter || $0 == "_" }, "bad name in \(line)")
    var labels: [String: String] = [:]
    var rest = line[line.index(after: open)..<close]
    while !rest.isEmpty {
        let equals = try #require(rest.firstIndex(of: "="), "no = in \(line)")
        let label = String(rest[..<equals])
        rest = rest[rest.index(after: equals)...]
        try #require(rest.first == "\"", "unquoted value in \(line)")
        rest = rest.dropFirst()
        let end = try #require(rest.firstIndex(of: "\""), "unterminated value in \(line)")
        labels[label] = String(rest[..<end])
        rest = rest[rest.index(after: end)...]
        if rest.first == "," { rest = rest.dropFirst() }
    }
    let valueText = line[line.index(after: close)...]
    try #require(valueText.first == " ", "no space before the value in \(line)")
    let value = try #require(Double(valueText.dropFirst()), "bad value in \(line)")
    return (name, labels, value)
}
