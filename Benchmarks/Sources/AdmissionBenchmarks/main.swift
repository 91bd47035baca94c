import Admission
import CanaryModel
import Foundation
import JSONValue
import KubeModels

// Times each step of answering the tutorial Canary's AdmissionReview, in process (no TLS, no HTTP).
// Run from the repository root: swift run -c release --package-path Benchmarks
// With `--profile ENDPOINT` (mutate-canary, validate-canary) it only answers that review 100,000 times, for
// `perf record` or for timing the whole process.
var arguments = Array(CommandLine.arguments.dropFirst())
var profiled: AdmissionEndpoint?
if let flag = arguments.firstIndex(of: "--profile"), flag + 1 < arguments.count {
    profiled = AdmissionEndpoint.allCases.first { $0.label == arguments[flag + 1] }
    guard profiled != nil else {
        print("--profile takes one of: \(AdmissionEndpoint.allCases.map(\.label).joined(separator: ", "))")
        exit(2)
    }
    arguments.removeSubrange(flag...(flag + 1))
}
let path = arguments.first ?? "bench/canary-review.json"
guard let data = FileManager.default.contents(atPath: path) else {
    print("cannot read \(path); run from the repository root or pass the review's path")
    exit(2)
}
let body = Array(data)
let service = AdmissionService()
let review = try JSONValue(parsing: body)
let object = review["request", "object"]!
let defaulted = CanaryDefaulter().defaulted(object)

func time(_ label: String, _ n: Int = 20000, _ body: () throws -> Void) rethrows {
    let start = ContinuousClock.now
    for _ in 0..<n { try body() }
    let elapsed = ContinuousClock.now - start
    let us = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(n)
    print(label.padding(toLength: 28, withPad: " ", startingAt: 0), String(format: "%8.2f µs", us))
}

if let profiled {
    let semaphore = DispatchSemaphore(value: 0)
    Task.detached {
        let start = ContinuousClock.now
        for _ in 0..<100_000 { _ = await service.handle(endpoint: profiled, body: body) }
        print("handle \(profiled.label): 100000 reviews in \(ContinuousClock.now - start)")
        semaphore.signal()
    }
    semaphore.wait()
    exit(0)
}

try time("parse review") { _ = try JSONValue(parsing: body) }
try time("decode AdmissionRequest") {
    _ = try JSONValueDecoder().decode(AdmissionRequest.self, from: review["request"]!)
}
time("defaulted") { _ = CanaryDefaulter().defaulted(object) }
time("schema validate") { _ = CanarySchema.canary.validate(defaulted, at: FieldPath("")) }
try time("decode Canary") { _ = try JSONValueDecoder().decode(Canary.self, from: defaulted) }
time("validator.validate") { _ = CanaryValidator().validate(defaulted) }
time("diff") { _ = JSONPatch.diff(from: object, to: defaulted) }
try time("encode Canary") {
    _ = try JSONValueEncoder().encode(try JSONValueDecoder().decode(Canary.self, from: defaulted))
}
time("serialize review") { _ = review.serializedBytes() }
let semaphore = DispatchSemaphore(value: 0)
Task.detached {
    for endpoint in [AdmissionEndpoint.mutateCanary, .validateCanary] {
        let n = 20000
        let start = ContinuousClock.now
        for _ in 0..<n { _ = await service.handle(endpoint: endpoint, body: body) }
        let elapsed = ContinuousClock.now - start
        let us = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(n)
        print(
            "handle \(endpoint.label)".padding(toLength: 28, withPad: " ", startingAt: 0),
            String(format: "%8.2f µs", us)
        )
    }
    semaphore.signal()
}
semaphore.wait()
