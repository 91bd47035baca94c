import JSONValue
import Testing

@Suite("RFC 6901 pointers, RFC 6902 patches and RFC 7396 merge patches")
struct PatchTests {
    static let document: JSONValue = [
        "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7,
        "m~n": 8,
    ]

    @Test(
        "resolves the RFC 6901 examples",
        arguments: [
            ("", nil), ("/foo", ["bar", "baz"] as JSONValue), ("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2),
            ("/e^f", 3), ("/g|h", 4), ("/i\\j", 5), ("/k\"l", 6), ("/ ", 7), ("/m~0n", 8),
        ] as [(String, JSONValue?)]
    )
    func pointers(_ text: String, _ expected: JSONValue?) throws {
        let pointer = try JSONPointer(text)
        #expect(Self.document[pointer: pointer] == (expected ?? Self.document))
        #expect(pointer.description == text)
    }

    @Test("refuses pointers without a leading slash or with a bad escape")
    func badPointers() {
        #expect(throws: JSONPatchError.self) { try JSONPointer("foo") }
        #expect(throws: JSONPatchError.self) { try JSONPointer("/a~2") }
    }

    @Test("applies every operation")
    func operations() throws {
        let patch = try JSONPatch(
            json: try JSONValue(
                parsing: #"""
                    [{"op":"add","path":"/baz","value":"qux"},
                     {"op":"add","path":"/list/1","value":"x"},
                     {"op":"add","path":"/list/-","value":"end"},
                     {"op":"remove","path":"/gone"},
                     {"op":"replace","path":"/foo","value":[1]},
                     {"op":"move","from":"/moved","path":"/here"},
                     {"op":"copy","from":"/baz","path":"/copy"},
                     {"op":"test","path":"/copy","value":"qux"}]
                    """#
            )
        )
        let result = try patch.apply(to: ["foo": "bar", "list": ["a", "b"], "gone": 1, "moved": ["k": true]])
        #expect(
            result == ["foo": [1], "list": ["a", "x", "b", "end"], "baz": "qux", "here": ["k": true], "copy": "qux"]
        )
    }

    @Test(
        "fails as a whole and names the problem",
        arguments: [
            #"[{"op":"remove","path":"/missing"}]"#,
            #"[{"op":"add","path":"/a/b/c","value":1}]"#,
            #"[{"op":"add","path":"/list/5","value":1}]"#,
            #"[{"op":"test","path":"/list/0","value":"z"}]"#,
            #"[{"op":"move","from":"/list","path":"/list/0"}]"#,
            #"[{"op":"frobnicate","path":"/"}]"#,
            #"[{"op":"add","path":"/x"}]"#,
            #"{"op":"add"}"#,
        ]
    )
    func failures(_ text: String) throws {
        let document: JSONValue = ["list": ["a"]]
        #expect(throws: JSONPatchError.self) {
            _ = try JSONPatch(json: try JSONValue(parsing: text)).apply(to: document)
        }
    }

    @Test(
        "diff then apply reproduces the target",
        arguments: [
            (["a": 1, "b": ["c": [1, 2]]] as JSONValue, ["a": 2, "b": ["c": [1, 2, 3]], "d": "new"] as JSONValue),
            (["list": [1, 2, 3]], ["list": [1]]),
            (["list": [1, 2, 3]], ["list": [3, 2, 1]]),
            (["x": ["y": "z"]], ["x": "flat"]),
            (["a~b/c": 1], ["a~b/c": 2, "e/f": 3]),
            ([1, 2], ["not": "an array"]),
        ] as [(JSONValue, JSONValue)]
    )
    func diff(_ source: JSONValue, _ target: JSONValue) throws {
        let patch = JSONPatch.diff(from: source, to: target)
        #expect(try patch.apply(to: source) == target)
        #expect(JSONPatch.diff(from: target, to: target).isEmpty)
        let reparsed = try JSONPatch(json: try JSONValue(parsing: patch.json.serialized()))
        #expect(reparsed == patch)
        #expect(patch.serializedBytes() == patch.json.serializedBytes())
    }

    @Test("a patch written directly is the same text as its JSON form, for every operation")
    func directSerialization() throws {
        let patch = JSONPatch([
            .add(path: JSONPointer(tokens: ["a~b", "c/d"]), value: ["q\"uote": "line\nbreak\u{1}", "n": -42]),
            .remove(path: JSONPointer(tokens: ["x", "0"])),
            .replace(path: JSONPointer(tokens: []), value: [.int(Int64.min), .int(Int64.max), 0, 1.5, true, nil]),
            .move(from: JSONPointer(tokens: ["m"]), path: JSONPointer(tokens: ["n"])),
            .copy(from: JSONPointer(tokens: ["é"]), path: JSONPointer(tokens: ["ü", "-"])),
            .test(path: JSONPointer(tokens: ["t"]), value: "ok"),
        ])
        let text = String(decoding: patch.serializedBytes(), as: UTF8.self)
        #expect(patch.serializedBytes() == patch.json.serializedBytes())
        #expect(try JSONPatch(json: try JSONValue(parsing: text)) == patch)
        #expect(text.contains(#""path":"/a~0b/c~1d""#))
        #expect(text.contains(#""n":-42"#))
        #expect(text.contains(#"[-9223372036854775808,9223372036854775807,0,1.5,true,null]"#))
        #expect(text.contains(#""line\nbreak\u0001""#))
        #expect(text.contains(#"{"from":"/m","op":"move","path":"/n"}"#))
    }

    @Test("pointers escape and parse by bytes, so a combining mark after ~ or / changes nothing")
    func pointerBytes() throws {
        for token in ["a/\u{301}", "~\u{301}", "é~/", "plain", ""] {
            let pointer = JSONPointer(tokens: ["x", token])
            #expect(try JSONPointer(pointer.description) == pointer, "\(token)")
        }
        #expect(JSONPointer(tokens: ["a/\u{301}"]).description == "/a~1\u{301}")
    }

    @Test("diff skips a subtree both documents share and still finds changes beside it")
    func diffSharedSubtree() throws {
        let shared: JSONValue = ["big": .array((0..<100).map { .int($0) }), "deep": ["x": ["y": "z"]]]
        let source: JSONValue = ["metadata": shared, "spec": ["a": 1]]
        let target: JSONValue = ["metadata": shared, "spec": ["a": 1, "b": [1, 2]]]
        #expect(
            JSONPatch.diff(from: source, to: target).operations == [
                .add(path: JSONPointer(tokens: ["spec", "b"]), value: [1, 2])
            ]
        )
        // Equal but separately built values are compared member by member: no operations either.
        let rebuilt = try JSONValue(parsing: source.serialized())
        #expect(JSONPatch.diff(from: source, to: rebuilt).isEmpty)
        #expect(JSONPatch.diff(from: ["n": 1], to: ["n": 1.0]).isEmpty)
    }

    @Test("adds only the new member when defaults are added")
    func diffIsMinimal() {
        let patch = JSONPatch.diff(from: ["spec": ["a": 1]], to: ["spec": ["a": 1, "b": 2]])
        #expect(patch.operations == [.add(path: JSONPointer(tokens: ["spec", "b"]), value: 2)])
    }

    @Test(
        "merge patch follows RFC 7396's examples",
        arguments: [
            (["a": "b"] as JSONValue, ["a": "c"] as JSONValue, ["a": "c"] as JSONValue),
            (["a": "b"], ["b": "c"], ["a": "b", "b": "c"]),
            (["a": "b"], ["a": nil], [:]),
            (["a": "b", "b": "c"], ["a": nil], ["b": "c"]),
            (["a": ["b"]], ["a": "c"], ["a": "c"]),
            (["a": "c"], ["a": ["b"]], ["a": ["b"]]),
            (["a": ["b": "c"]], ["a": ["b": "d", "c": nil]], ["a": ["b": "d"]]),
            (["a": [["b": "c"]]], ["a": [1]], ["a": [1]]),
            (["e": nil], ["a": 1], ["e": nil, "a": 1]),
            ([1, 2], ["a": "b", "c": nil], ["a": "b"]),
        ] as [(JSONValue, JSONValue, JSONValue)]
    )
    func mergePatch(_ target: JSONValue, _ patch: JSONValue, _ expected: JSONValue) {
        #expect(MergePatch.apply(patch, to: target) == expected)
    }

    @Test("merge diff then apply reproduces the target")
    func mergeDiff() throws {
        let source: JSONValue = ["a": 1, "b": ["c": 2, "d": 3], "gone": true]
        let target: JSONValue = ["a": 1, "b": ["c": 5], "new": ["x": 1]]
        let patch = try #require(MergePatch.diff(from: source, to: target))
        #expect(MergePatch.apply(patch, to: source) == target)
        #expect(MergePatch.diff(from: target, to: target) == nil)
    }
}
