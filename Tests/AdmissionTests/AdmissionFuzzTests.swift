import Admission
import JSONValue
import KubeModels
import Testing

/// Whatever arrives, the gate answers 200 or 400 with a JSON body: no crash, no hang, no other status.
@Suite("Admission fuzzing")
struct AdmissionFuzzTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let values: [JSONValue] = [
        .null, true, 0, -1, 150, .int(Int64.max), .int(Int64.min), 1.5, 1e300, "", "x", "5x", "10s", [], [1, "a"],
        [:], ["name": 1], "DELETE", "Progressing", .string(String(repeating: "a", count: 300)),
    ]

    /// A copy of `value` with the member at a random path replaced by a random value or removed.
    static func mutate(_ value: JSONValue, _ random: inout SplitMix, depth: Int = 0) -> JSONValue {
        switch value {
        case .object(var members) where !members.isEmpty && depth < 8:
            let key = members.keys.sorted().randomElement(using: &random)!
            switch Int.random(in: 0..<5, using: &random) {
            case 0: members[key] = nil
            case 1: members[key] = values.randomElement(using: &random)!
            default: members[key] = mutate(members[key]!, &random, depth: depth + 1)
            }
            return .object(members)
        case .array(var elements) where !elements.isEmpty && depth < 8:
            let index = Int.random(in: 0..<elements.count, using: &random)
            elements[index] = mutate(elements[index], &random, depth: depth + 1)
            return .array(elements)
        default:
            return values.randomElement(using: &random)!
        }
    }

    @Test("mutated reviews of every endpoint are answered 200 or 400 with JSON")
    func mutatedReviews() async throws {
        let cluster = MemoryCluster(objects: ["Deployment/prod/podinfo"])
        let service = AdmissionService(cluster: cluster)
        var random = SplitMix(state: 2026)
        let seeds = [
            try JSONValue(parsing: review()),
            try JSONValue(parsing: review(operation: "UPDATE", object: seedCanary, oldObject: seedCanary)),
            try JSONValue(
                parsing: review(
                    kind: Kind.deployment,
                    resource: Kind.deployments,
                    operation: "UPDATE",
                    object: primary(image: "x:2"),
                    oldObject: primary()
                )
            ),
        ]
        for iteration in 0..<3_000 {
            var body = seeds[iteration % seeds.count]
            for _ in 0..<Int.random(in: 1...3, using: &random) { body = Self.mutate(body, &random) }
            let endpoint = AdmissionEndpoint.allCases.randomElement(using: &random)!
            let answer = await service.handle(endpoint: endpoint, body: body.serializedBytes())
            #expect(answer.status == 200 || answer.status == 400, "\(body.serialized())")
            #expect((try? JSONValue(parsing: answer.body)) != nil)
        }
    }

    @Test("truncated and random bodies are answered 400")
    func truncated() async {
        let service = AdmissionService()
        let full = review()
        var random = SplitMix(state: 99)
        for cut in stride(from: 0, to: full.count - 1, by: 7) {
            let answer = await service.handle(endpoint: .mutateCanary, body: full.prefix(cut))
            #expect(answer.status == 400)
        }
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0..<200, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            let answer = await service.handle(endpoint: .validateCanary, body: bytes)
            #expect(answer.status == 400)
        }
    }
}
