import JSONValue
import Testing

@Suite("JSON parser")
struct ParserTests {
    @Test("parses every JSON type and keeps integers apart from fractions")
    func types() throws {
        let value = try JSONValue(parsing: #"{"a":1,"b":1.5,"c":"x","d":true,"e":null,"f":[1,{"g":-2e3}]}"#)
        #expect(value["a"] == .int(1))
        #expect(value["b"] == .double(1.5))
        #expect(value["c"] == "x")
        #expect(value["d"] == true)
        #expect(value["e"] == .null)
        #expect(value["f"]?[1]?["g"] == .double(-2000))
        if case .int = value["a"]! {} else { Issue.record("1 should stay an integer") }
    }

    @Test("decodes escapes, surrogate pairs and UTF-8")
    func strings() throws {
        let value = try JSONValue(parsing: #"["a\"b\\c\/\n\t\u00e9\ud83d\ude00", "żółw"]"#)
        #expect(value[0] == .string("a\"b\\c/\n\té😀"))
        #expect(value[1] == "żółw")
    }

    @Test(
        "round-trips through its own serialisation",
        arguments: [
            #"{"apiVersion":"flagger.app/v1beta1","spec":{"analysis":{"stepWeights":[1,2,10],"interval":"1m"}}}"#,
            #"[1,-0.5,1e+21,"\u0001",true,false,null,{},[]]"#,
            #""plain""#,
        ]
    )
    func roundTrip(_ text: String) throws {
        let value = try JSONValue(parsing: text)
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test(
        "refuses malformed input with the offset and reason",
        arguments: [
            ("", "unexpected end of input"),
            ("{", "unexpected end of input"),
            (#"{"a" 1}"#, "expected ':'"),
            (#"{"a":1,}"#, "expected a string key"),
            ("[1,]", "unexpected character"),
            ("01", "leading zero"),
            ("1.", "invalid fraction"),
            ("-", "invalid number"),
            ("1e400", "out of range"),
            (#""\x""#, "invalid escape"),
            (#""\ud800""#, "unpaired surrogate"),
            ("\"a\nb\"", "control character"),
            ("tru", "unexpected end of input"),
            ("nul!", "invalid literal"),
            ("{} {}", "after the end"),
        ]
    )
    func malformed(_ input: String, _ reason: String) {
        #expect {
            _ = try JSONValue(parsing: input)
        } throws: { error in
            (error as? JSONParseError)?.reason.contains(reason) == true
        }
    }

    @Test("refuses invalid UTF-8 inside strings")
    func invalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: bytes) }
    }

    @Test("refuses nesting deeper than the limit instead of overflowing the stack")
    func depth() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect {
            _ = try JSONValue(parsing: deep)
        } throws: { error in
            (error as? JSONParseError)?.reason.contains("nesting deeper") == true
        }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        _ = try JSONValue(parsing: fine)
    }

    @Test("keeps integers beyond Int64 as doubles and refuses infinities")
    func hugeNumbers() throws {
        #expect(try JSONValue(parsing: "9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue(parsing: "9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "-1e999") }
    }
}
