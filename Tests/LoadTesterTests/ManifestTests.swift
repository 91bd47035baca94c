import Foundation
import Testing
import Yams

@testable import LoadTester

@Suite("The shipped load-tester manifest")
struct ManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The load tester container's args in manifests/loadtester/deployment.yaml.
    static func arguments() throws -> [String] {
        let text = try String(
            contentsOf: root.appendingPathComponent("manifests/loadtester/deployment.yaml"),
            encoding: .utf8
        )
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let spec = try #require((document["spec"] as? [String: Any])?["template"] as? [String: Any])
        let pod = try #require(spec["spec"] as? [String: Any])
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        return try #require(container["args"] as? [String])
    }

    @Test("it allows the tutorial's bash line with exactly the pattern the playground and the demo use")
    func allowBash() throws {
        let arguments = try Self.arguments()
        let flag = try #require(arguments.firstIndex(of: "--allow-bash"))
        #expect(arguments.dropFirst(flag + 1).first == LoadTesterConfiguration.tutorialBashPattern)
    }
}
