import JSONValue

/// Kubernetes `intstr.IntOrString`: a port number or a port name.
public enum IntOrString: Codable, Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case string(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let int = try? container.decode(Int.self) {
            self = .int(int)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else {
            throw DecodingError.typeMismatch(
                IntOrString.self,
                .init(codingPath: decoder.codingPath, debugDescription: "must be an integer or a string")
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let int): try container.encode(int)
        case .string(let string): try container.encode(string)
        }
    }

    public var description: String {
        switch self {
        case .int(let int): return String(int)
        case .string(let string): return string
        }
    }

    /// The JSON form.
    public var json: JSONValue {
        switch self {
        case .int(let int): return .int(Int64(int))
        case .string(let string): return .string(string)
        }
    }
}
