import Foundation
import Testing

@Suite("fledge demo", .serialized)
struct DemoCommandTests {
    @Test("the tutorial plays out: invalid Canary refused, 3.1.1 promoted in 5 % steps, 3.1.2 rolled back, exit 0")
    func tutorial() async throws {
        try MachineTools.require(
            ["bash", "curl", "grep"],
            for: "the demo's load tester runs the tutorial's acceptance test, bash -c \"curl … | grep token\""
        )
        let result = try await Fledge.runOffPool(["demo", "--speed", "40", "--plain"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("admission webhook \"mutate.canaries.flagger.app\" denied the request"))
        for weight in stride(from: 5, through: 100, by: 5) {
            #expect(out.contains("\(weight)%  Progressing"), "weight \(weight) never shown")
        }
        let lines = [
            "Halt podinfo.prod advancement success rate", "Rolling back podinfo.prod failed checks threshold reached 5",
            "Canary failed! Scaling down podinfo.prod",
        ]
        for line in lines { #expect(out.contains(line), "missing: \(line)") }
        // Exactly the tutorial's five failed checks before the rollback, and the measured start of the release.
        #expect(out.components(separatedBy: "Halt podinfo.prod advancement success rate").count - 1 == 5, "\(out)")
        #expect(out.contains("Progressing after "), "the detection time is measured and shown")
        #expect(!out.contains("FAILED"))
        #expect(!out.contains("\u{1B}["), "--plain output has no escape codes")
    }

    @Test("the demo's embedded manifests are manifests/examples byte for byte")
    func manifests() throws {
        let result = try Fledge.run(["demo", "--print-manifests"])
        let expected = try ["podinfo.yaml", "canary.yaml", "invalid-canary.yaml"].map {
            try String(
                contentsOf: Fledge.repositoryRoot.appendingPathComponent("manifests/examples/\($0)"),
                encoding: .utf8
            )
        }.joined(separator: "---\n")
        #expect(result.stdout == expected)
    }
}
