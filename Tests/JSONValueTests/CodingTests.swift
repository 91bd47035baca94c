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

@Suite("Direct readers")
struct DirectReaderCodingTests {
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
