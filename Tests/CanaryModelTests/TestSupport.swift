import CanaryModel
import Foundation
import JSONValue
import Testing
import Yams

/// Fixtures shared by the CanaryModel tests.
enum Fixture {
    /// The Canary of the tutorial (Flagger with Linkerd, "Creating a canary for podinfo"), verbatim,
    /// as JSON. `ValidationRuleTests` checks it is still the same as `manifests/examples/canary.yaml`.
    static let seedText = """
        {
          "apiVersion": "flagger.app/v1beta1",
          "kind": "Canary",
          "metadata": {
            "name": "podinfo",
            "namespace": "prod",
            "annotations": {"fluxcd.io/ignore": "false"}
          },
          "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
            "service": {"port": 9898},
            "analysis": {
              "interval": "10s",
              "maxWeight": 100,
              "stepWeight": 5,
              "threshold": 5,
              "metrics": [
                {"name": "request-success-rate", "thresholdRange": {"min": 99}, "interval": "1m"},
                {"name": "request-duration", "thresholdRange": {"max": 500}, "interval": "1m"}
              ],
              "webhooks": [
                {
                  "name": "acceptance-test",
                  "type": "pre-rollout",
                  "url": "http://flagger-loadtester.prod/",
                  "timeout": "30s",
                  "metadata": {
                    "type": "bash",
                    "cmd": "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token"
                  }
                },
                {
                  "name": "load-test",
                  "type": "rollout",
                  "url": "http://flagger-loadtester.prod/",
                  "metadata": {"cmd": "hey -z 2m -q 10 -c 2 http://podinfo-canary.prod:9898/"}
                }
              ]
            }
          }
        }
        """

    /// The seed Canary as the user wrote it.
    static let seed = parse(seedText)

    /// The seed Canary after the mutating webhook: what the validating webhook is handed.
    static let defaultedSeed = CanaryDefaulter().defaulted(seed)

    /// Parses fixture JSON text; a fixture that does not parse is a bug in the test itself.
    static func parse(_ text: String) -> JSONValue {
        do {
            return try JSONValue(parsing: text)
        } catch {
            fatalError("fixture JSON does not parse: \(error)")
        }
    }

    /// The repository root: this file is `Tests/CanaryModelTests/TestSupport.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The text of a file of the repository, by its path from the root.
    static func text(of relativePath: String) throws -> String {
        let url = repositoryRoot.appendingPathComponent(relativePath)
        let data = try #require(FileManager.default.contents(atPath: url.path), "cannot read \(url.path)")
        return String(decoding: data, as: UTF8.self)
    }

    /// A YAML file of the repository (one document), as JSON.
    static func yaml(_ relativePath: String) throws -> JSONValue {
        try YAML.json(Yams.load(yaml: text(of: relativePath)))
    }
}

/// A named JSON document, for test arguments that read well in the test report.
struct Sample: Sendable, CustomTestStringConvertible {
    var name: String
    var json: JSONValue

    init(_ name: String, _ json: JSONValue) {
        self.name = name
        self.json = json
    }

    var testDescription: String { name }
}

/// Converts what Yams loads into `JSONValue`.
enum YAML {
    struct Unconvertible: Error, CustomStringConvertible {
        var description: String
    }

    static func json(_ value: Any?) throws -> JSONValue {
        switch value {
        case nil, is NSNull: return .null
        case let bool as Bool: return .bool(bool)
        case let int as Int: return .int(Int64(int))
        case let double as Double: return .double(double)
        case let string as String: return .string(string)
        case let array as [Any]: return .array(try array.map(json))
        case let object as [String: Any]: return .object(try object.mapValues(json))
        case let object as [AnyHashable: Any]:
            var members: [String: JSONValue] = [:]
            for (key, member) in object {
                guard let name = key.base as? String else {
                    throw Unconvertible(description: "YAML mapping key \(key) is not a string")
                }
                members[name] = try json(member)
            }
            return .object(members)
        default:
            throw Unconvertible(description: "YAML value \(value!) (\(type(of: value!))) has no JSON form")
        }
    }
}

/// One change to a JSON document at a JSON pointer, applied with our RFC 6902 `JSONPatch`.
enum Edit: Sendable, CustomTestStringConvertible {
    /// `add`: sets an object member (replacing it if present) or, at `-`, appends to an array.
    case set(String, JSONValue)
    case remove(String)

    var testDescription: String {
        switch self {
        case .set(let pointer, let value): "\(pointer) = \(value.serialized())"
        case .remove(let pointer): "remove \(pointer)"
        }
    }
}

extension JSONValue {
    /// The document with the edits applied in order.
    func applying(_ edits: [Edit]) throws -> JSONValue {
        var operations: [JSONPatch.Operation] = []
        for edit in edits {
            switch edit {
            case .set(let pointer, let value): operations.append(.add(path: try JSONPointer(pointer), value: value))
            case .remove(let pointer): operations.append(.remove(path: try JSONPointer(pointer)))
            }
        }
        return try JSONPatch(operations).apply(to: self)
    }
}
