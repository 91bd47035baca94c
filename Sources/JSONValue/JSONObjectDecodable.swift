/// A type that reads itself straight from a JSON object, without Codable's keyed-container machinery.
///
/// For a type that also ``PreservesUnknownFields``, every member the reader did not ask for is kept as unknown, so a
/// member its `CodingKeys` lists but `init(reading:)` forgets is still written back, never lost.
///
/// ``JSONValueDecoder`` uses `init(reading:)` when a type offers it (hot paths: the admission gate decodes a Canary
/// per review); other decoders keep using the type's `Decodable` conformance. Errors are the same `DecodingError`s
/// with the same coding paths.
public protocol JSONObjectDecodable: Decodable {
    init(reading object: JSONObjectReader) throws
}

/// The members of one JSON object, read by name.
public struct JSONObjectReader {
    let members: [String: JSONValue]
    let decoder: JSONValueDecoderImpl

    init(members: [String: JSONValue], decoder: JSONValueDecoderImpl) {
        self.members = members
        self.decoder = decoder
    }

    /// The member `key` as a `T`; a missing or null member is an error.
    public func required<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T {
        decoder.keysRead.append(key)
        guard let value = members[key], !value.isNull else {
            throw DecodingError.keyNotFound(
                AnyCodingKey(key),
                .init(codingPath: decoder.codingPath, debugDescription: "Required value")
            )
        }
        if let direct = fastPrimitive(value, as: type) { return direct }
        return try JSONValueDecoderImpl(value: value, parent: decoder, key: AnyCodingKey(key)).unbox(type)
    }

    /// The member `key` as a `T`, or `nil` when it is missing or null.
    public func optional<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
        decoder.keysRead.append(key)
        guard let value = members[key], !value.isNull else { return nil }
        if let direct = fastPrimitive(value, as: type) { return direct }
        return try JSONValueDecoderImpl(value: value, parent: decoder, key: AnyCodingKey(key)).unbox(type)
    }
}
