import JSONValue
import Testing

struct Inner: Codable, Equatable, PreservesUnknownFields {
    var name: String
    var count: Int?
    var unknownFields: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case name, count }
}

struct Outer: Codable, Equatable, PreservesUnknownFields {
    var inner: Inner
    var list: [Inner]
    var unknownFields: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case inner, list }
}

@Suite("Coding between JSONValue and Codable types")
struct CodingTests {
    @Test("keeps members the model does not know, at every level")
    func preservesUnknownFields() throws {
        let json: JSONValue = [
            "inner": ["name": "a", "extra": [1, 2]],
            "list": [["name": "b", "count": 2, "future": ["x": true]]],
            "topLevel": "kept",
        ]
        let decoded = try JSONValueDecoder().decode(Outer.self, from: json)
        #expect(decoded.inner.unknownFields == ["extra": [1, 2]])
        #expect(decoded.list[0].unknownFields == ["future": ["x": true]])
        #expect(try JSONValueEncoder().encode(decoded) == json)
    }

    @Test("reports the field path and what was expected")
    func errors() throws {
        let json: JSONValue = ["inner": ["name": "a"], "list": [["name": "b", "count": "two"]]]
        do {
            _ = try JSONValueDecoder().decode(Outer.self, from: json)
            Issue.record("decoding should fail")
        } catch let error as DecodingError {
            #expect(error.fieldPath == "list[0].count")
            #expect(error.problem == "must be an integer, not string \"two\"")
        }
        do {
            _ = try JSONValueDecoder().decode(Outer.self, from: ["list": []])
            Issue.record("decoding should fail")
        } catch let error as DecodingError {
            #expect(error.fieldPath == "inner")
            #expect(error.problem == "Required value")
        }
    }

    @Test("refuses fractions and out-of-range values for integers")
    func integers() throws {
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int.self, from: .double(1.5)) }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Int32.self, from: .int(1 << 40)) }
        #expect(try JSONValueDecoder().decode(Int.self, from: .double(3)) == 3)
    }
}

/// Reads only `name`, as a reader that fell behind its `CodingKeys` would.
struct Forgetful: Codable, Equatable, PreservesUnknownFields, JSONObjectDecodable {
    var name: String
    var count: Int?
    var unknownFields: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case name, count }

    init(reading object: JSONObjectReader) throws { name = try object.required("name") }
}

/// Reads four optional members, the last of them often the only one present.
struct FourOptionals: Codable, Equatable, PreservesUnknownFields, JSONObjectDecodable {
    var a: String?
    var b: Int?
    var c: Bool?
    var d: String?
    var unknownFields: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case a, b, c, d }

    init(reading object: JSONObjectReader) throws {
        a = try object.optional("a")
        b = try object.optional("b")
        c = try object.optional("c")
        d = try object.optional("d")
    }
}

/// Reads `a`, then fails for want of `missing`.
struct NeedsMissing: Codable, PreservesUnknownFields, JSONObjectDecodable {
    var a: String?
    var missing: String
    var unknownFields: [String: JSONValue] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable { case a, missing }

    init(reading object: JSONObjectReader) throws {
        a = try object.optional("a")
        missing = try object.required("missing")
    }
}

/// Tries one shape, then another, on the same single-value container (so the same decoder).
struct EitherShape: Decodable {
    var second: FourOptionals?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if (try? container.decode(NeedsMissing.self)) == nil { second = try container.decode(FourOptionals.self) }
    }
}

@Suite("Direct readers")
struct DirectReaderCodingTests {
    @Test("a second attempt on the same decoder counts its members afresh")
    func secondAttempt() throws {
        let decoded = try JSONValueDecoder().decode(EitherShape.self, from: ["a": "x", "d": "kept"])
        #expect(decoded.second?.a == "x")
        #expect(decoded.second?.d == "kept")
    }

    @Test(
        "members are read wherever they come in the reader's order, and the rest are kept",
        arguments: [
            ["d": "last"] as JSONValue,
            ["a": "first", "d": "last"],
            ["b": 2, "extra": [1, 2], "c": false],
            ["extra": "only"],
            ["a": nil, "d": "after a null"],
            [:],
        ]
    )
    func readerOrder(_ json: JSONValue) throws {
        let decoded = try JSONValueDecoder().decode(FourOptionals.self, from: json)
        #expect(decoded.a == json["a"]?.stringValue)
        #expect(decoded.b == json["b"]?.intValue.map(Int.init))
        #expect(decoded.c == json["c"]?.boolValue)
        #expect(decoded.d == json["d"]?.stringValue)
        // Unknown members are kept, and so are known ones written as null (they read as absent).
        let unknown = (json.objectValue ?? [:]).filter {
            FourOptionals.CodingKeys(rawValue: $0.key) == nil || $0.value.isNull
        }
        #expect(decoded.unknownFields == unknown)
        // Written back exactly as read, explicit nulls included (a pod template's `creationTimestamp: null` must
        // hash the same read typed or not).
        #expect(try JSONValueEncoder().encode(decoded) == json)
    }

    @Test("a member the reader does not read is kept and written back, never lost")
    func forgottenMemberKept() throws {
        let json: JSONValue = ["name": "a", "count": 2, "extra": true]
        let decoded = try JSONValueDecoder().decode(Forgetful.self, from: json)
        #expect(decoded.count == nil)
        #expect(decoded.unknownFields == ["count": 2, "extra": true])
        #expect(try JSONValueEncoder().encode(decoded) == json)
    }

    @Test("a missing required member is reported with its path")
    func requiredMember() throws {
        do {
            _ = try JSONValueDecoder().decode([Forgetful].self, from: [["name": "a"], ["count": 1]])
            Issue.record("decoding should fail")
        } catch let error as DecodingError {
            #expect(error.fieldPath == "[1].name")
            #expect(error.problem == "Required value")
        }
    }
}
