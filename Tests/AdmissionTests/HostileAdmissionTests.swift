import Admission
import CanaryModel
import Foundation
import JSONValue
import KubeModels
import Testing

/// A tenant who may write Canaries tries to stall or blow up the admission gate with one object. The cost of a review
/// must be linear in its size and the answer small, whatever the object holds.
@Suite("Hostile tenant against the admission gate")
struct HostileAdmissionTests {
    /// The tutorial Canary with `edit` applied to its `spec.analysis`.
    func canary(_ edit: (inout [String: JSONValue]) -> Void) -> JSONValue {
        var object = seedCanary
        var analysis = object["spec", "analysis"]?.objectValue ?? [:]
        edit(&analysis)
        object.setMember(["spec", "analysis"], .object(analysis))
        return object
    }

    /// Both Canary endpoints answer the review; returns the two denials' `response`s.
    func deniedByBoth(_ object: JSONValue) async throws -> [(response: JSONValue, bytes: Int)] {
        let service = AdmissionService()
        var answers: [(JSONValue, Int)] = []
        for endpoint in [AdmissionEndpoint.mutateCanary, .validateCanary] {
            let start = ContinuousClock.now
            let answer = await service.handle(endpoint: endpoint, body: review(object: object))
            // Printed for whoever reads the log; the numbers this suite pins are sizes and counts, not times.
            print("\(endpoint.label): \(answer.body.count) bytes in \(ContinuousClock.now - start)")
            let decoded = try response(answer)
            #expect(decoded["allowed"] == false)
            answers.append((decoded, answer.body.count))
        }
        return answers
    }

    @Test("64,000 mistyped stepWeights: one small denial naming the list's length, not 64,000 errors")
    func mistypedStepWeights() async throws {
        // The finding: removed one whole-document patch at a time, 64,000 strings took 37.6 s and a 13.9 MB answer.
        let object = canary { analysis in
            analysis["stepWeight"] = nil
            analysis["maxWeight"] = nil
            analysis["stepWeights"] = .array((0..<64_000).map { .string("w\($0)") })
        }
        for (response, bytes) in try await deniedByBoth(object) {
            #expect(bytes < 64 * 1024)
            let message = try #require(response["status", "message"]?.stringValue)
            #expect(message.count < 1000)
            #expect(message.contains("spec.analysis.stepWeights: Too many: 64000: must have at most 100 items"))
            #expect(!message.contains("stepWeights[1]"))
        }
    }

    @Test("64,000 metrics with a mistyped interval: one small denial naming the list's length")
    func mistypedMetricIntervals() async throws {
        // The finding: 5 MB of them took 75 s and 324 MB.
        let object = canary { analysis in
            analysis["metrics"] = .array(
                (0..<64_000).map { _ in ["name": "request-success-rate", "interval": 60, "thresholdRange": ["min": 99]]
                }
            )
        }
        for (response, bytes) in try await deniedByBoth(object) {
            #expect(bytes < 64 * 1024)
            let message = try #require(response["status", "message"]?.stringValue)
            #expect(message.count < 1000)
            #expect(message.contains("spec.analysis.metrics: Too many: 64000: must have at most 64 items"))
            #expect(!message.contains("metrics[1]"))
        }
    }

    @Test("10,000 mistyped values where lists are short: 100 errors listed and the rest counted")
    func manyMistypedValues() async throws {
        // 64 webhooks (the most allowed), each with 156 mistyped metadata values: 9,984 type errors.
        let metadata = JSONValue.object(
            Dictionary(uniqueKeysWithValues: (0..<156).map { ("key\($0)", JSONValue.int(Int64($0))) })
        )
        let object = canary { analysis in
            analysis["webhooks"] = .array(
                (0..<64).map { index in
                    ["name": .string("hook\(index)"), "url": "http://flagger-loadtester.prod/", "metadata": metadata]
                }
            )
        }
        for (response, bytes) in try await deniedByBoth(object) {
            #expect(bytes < 64 * 1024)
            let message = try #require(response["status", "message"]?.stringValue)
            #expect(message.hasSuffix(", and 9884 more]"))
            #expect(response["status", "details", "causes"]?.arrayValue?.count == 100)
        }
    }

    @Test("64,000 unknown fields: at most 20 warnings, the last one counting the rest")
    func unknownFields() async throws {
        let object = canary { analysis in
            for index in 0..<64_000 { analysis["typo\(index)"] = 1 }
        }
        let answer = await AdmissionService().handle(endpoint: .validateCanary, body: review(object: object))
        let decoded = try response(answer)
        #expect(decoded["allowed"] == true)
        let warnings = try #require(decoded["warnings"]?.arrayValue)
        #expect(warnings.count == 20)
        #expect(warnings.last == "and 63981 more warnings")
        #expect(answer.body.count < 16 * 1024)
    }

    @Test("two mistyped elements of one list are both set aside and the element between them is still checked")
    func mistypedElementsDoNotShift() async throws {
        // Removing /metrics/0 first used to shift /metrics/2 onto the wrong element.
        let object = canary { analysis in
            analysis["metrics"] = [
                "not a metric",
                ["name": "error-rate", "interval": "1m"],
                42,
            ]
        }
        let report = CanaryValidator().validate(CanaryDefaulter().defaulted(object))
        let fields = report.errors.map(\.field)
        #expect(fields.contains("spec.analysis.metrics[0]"))
        #expect(fields.contains("spec.analysis.metrics[2]"))
        // The semantic check of the well-typed element in the middle, at its own index.
        #expect(fields.contains("spec.analysis.metrics[1].templateRef"))
    }
}
