import Foundation
import JSONValue
import Yams

/// Multi-document YAML (or JSON, which is YAML) to JSON values and back.
public enum YAMLDocuments {
    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The non-empty documents of a YAML stream, as JSON.
    public static func parse(_ text: String) throws -> [JSONValue] {
        do {
            // Parser directly, not Yams.load_all, whose sequence drops parse errors.
            let parser = try Parser(yaml: text)
            var documents: [JSONValue] = []
            while let root = try parser.nextRoot() {
                let value = try json(Constructor.default.any(from: root))
                if !value.isNull { documents.append(value) }
            }
            return documents
        } catch let error as ParseError {
            throw error
        } catch {
            throw ParseError(description: "not valid YAML or JSON: \(error)")
        }
    }

    static func json(_ value: Any?) throws -> JSONValue {
        switch value {
        case nil, is NSNull: return .null
        case let bool as Bool: return .bool(bool)
        case let int as Int: return .int(Int64(int))
        case let double as Double:
            guard double.isFinite else { throw ParseError(description: "the number \(double) is not valid JSON") }
            return .double(double)
        case let string as String: return .string(string)
        case let data as Data: return .string(data.base64EncodedString())
        case let date as Date: return .string(date.formatted(.iso8601))
        case let array as [Any]: return .array(try array.map(json))
        case let dictionary as [String: Any]: return .object(try dictionary.mapValues(json))
        case let dictionary as [AnyHashable: Any]:
            var members: [String: JSONValue] = [:]
            for (key, member) in dictionary { members["\(key)"] = try json(member) }
            return .object(members)
        default:
            return .string("\(value!)")
        }
    }

    /// Keys that read best first in Kubernetes manifests; the rest follow alphabetically.
    static let leadingKeys = ["apiVersion", "kind", "metadata", "name", "namespace", "spec", "type", "description"]

    /// The YAML of a JSON value, with Kubernetes' usual key order first.
    public static func render(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value), width: -1, sortKeys: false)
    }

    static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let bool): return Node(bool ? "true" : "false", Tag(.bool))
        case .int(let int): return Node(String(int), Tag(.int))
        case .double(let double): return Node(JSONValue.double(double).serialized(), Tag(.float))
        case .string(let string):
            // Quote strings YAML would read as something else ("true", "1", "", "null", ...).
            let plain = (try? Yams.load(yaml: string)) as? String == string && !string.isEmpty
            return Node(string, Tag(.str), plain ? .any : .doubleQuoted)
        case .array(let elements): return Node(elements.map(node))
        case .object(let members):
            let keys = members.keys.sorted { a, b in
                let ia = leadingKeys.firstIndex(of: a) ?? Int.max
                let ib = leadingKeys.firstIndex(of: b) ?? Int.max
                return ia != ib ? ia < ib : a < b
            }
            return Node(keys.map { (Node($0), node(members[$0]!)) })
        }
    }
}
