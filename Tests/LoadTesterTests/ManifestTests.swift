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

    @Test("it caps concurrent tasks at the default")
    func maxTasks() throws {
        let arguments = try Self.arguments()
        let flag = try #require(arguments.firstIndex(of: "--max-tasks"))
        #expect(arguments.dropFirst(flag + 1).first == "\(LoadTesterConfiguration().maximumConcurrentTasks)")
    }

    @Test("its NetworkPolicy is in the kustomization and admits only Fledge's controller")
    func networkPolicy() throws {
        let directory = Self.root.appendingPathComponent("manifests/loadtester")
        let kustomization = try String(
            contentsOf: directory.appendingPathComponent("kustomization.yaml"),
            encoding: .utf8
        )
        let resources = try #require((try Yams.load(yaml: kustomization) as? [String: Any])?["resources"] as? [String])
        #expect(resources.contains("networkpolicy.yaml"))
        let text = try String(contentsOf: directory.appendingPathComponent("networkpolicy.yaml"), encoding: .utf8)
        let policy = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(policy["kind"] as? String == "NetworkPolicy")
        let spec = try #require(policy["spec"] as? [String: Any])
        #expect(spec["policyTypes"] as? [String] == ["Ingress", "Egress"])
        let selected = (spec["podSelector"] as? [String: Any])?["matchLabels"] as? [String: String]
        #expect(selected == ["app.kubernetes.io/name": "fledge-loadtester"])
        let ingress = try #require(spec["ingress"] as? [[String: Any]])
        #expect(ingress.count == 1)
        let peer = try #require((ingress.first?["from"] as? [[String: Any]])?.first)
        #expect(
            (peer["namespaceSelector"] as? [String: Any])?["matchLabels"] as? [String: String]
                == ["kubernetes.io/metadata.name": "fledge-system"]
        )
        #expect(
            (peer["podSelector"] as? [String: Any])?["matchLabels"] as? [String: String]
                == ["app.kubernetes.io/name": "fledge"]
        )
        #expect((spec["egress"] as? [[String: Any]])?.count == 3)
    }
}
