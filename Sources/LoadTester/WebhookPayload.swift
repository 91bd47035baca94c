import JSONValue

/// The body Flagger POSTs to every webhook: `{"name","namespace","phase","checksum","metadata"}`.
///
/// Decoded the way Go's `encoding/json` decodes Flagger's `CanaryWebhookPayload`: unknown fields are ignored, a
/// missing field is empty, a field of the wrong type is an error, and metadata values must be strings.
struct WebhookPayload: Sendable, Equatable {
    var name = ""
    var namespace = ""
    var phase = ""
    var checksum = ""
    var metadata: [String: String] = [:]

    /// `name.namespace`, as Flagger's load tester names a canary in its logs and task keys.
    var canary: String { "\(name).\(namespace)" }

    init(name: String = "", namespace: String = "", metadata: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.metadata = metadata
    }

    /// Decodes a request body; the error is the reason, for a 400 answer.
    init(decoding body: [UInt8]) throws(PayloadError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            throw PayloadError(reason: error.description)
        }
        switch document {
        case .null:
            return
        case .object(let members):
            name = try Self.string(members["name"], field: "name")
            namespace = try Self.string(members["namespace"], field: "namespace")
            phase = try Self.string(members["phase"], field: "phase")
            checksum = try Self.string(members["checksum"], field: "checksum")
            switch members["metadata"] {
            case nil, .null?:
                break
            case .object(let entries)?:
                for (key, value) in entries {
                    metadata[key] = try Self.string(value, field: "metadata.\(key)")
                }
            case let other?:
                throw PayloadError(reason: "metadata is \(Self.article(other.typeName)), want an object of strings")
            }
        default:
            throw PayloadError(reason: "the payload is \(Self.article(document.typeName)), want an object")
        }
    }

    private static func string(_ value: JSONValue?, field: String) throws(PayloadError) -> String {
        switch value {
        case nil, .null?:
            return ""
        case .string(let string)?:
            return string
        case let other?:
            throw PayloadError(reason: "\(field) is \(article(other.typeName)), want a string")
        }
    }

    private static func article(_ typeName: String) -> String {
        (typeName.first.map { "aeiou".contains($0) } ?? false) ? "an \(typeName)" : "a \(typeName)"
    }
}

/// Why a request body is not a webhook payload.
struct PayloadError: Error, Sendable, Equatable {
    var reason: String
}
