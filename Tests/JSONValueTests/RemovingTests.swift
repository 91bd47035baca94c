import JSONValue
import Testing

@Suite("Removing many pointers in one walk")
struct RemovingTests {
    @Test("pointers refer to the value as it is: removing an element does not shift the next pointer")
    func noShift() throws {
        let value: JSONValue = ["a": [0, 1, 2, 3], "b": ["c": 1, "d": 2]]
        let pointers = try ["/a/0", "/a/2", "/b/c"].map { try JSONPointer($0) }
        let (result, shifts) = value.removingWithShifts(pointers)
        #expect(result == ["a": [1, 3], "b": ["d": 2]])
        #expect(shifts.count == 1)
        #expect(shifts.first?.array == (try JSONPointer("/a")))
        #expect(shifts.first?.keptIndices == [1, 3])
    }

    @Test("nested lists report original indices at every level; pointers to nothing are ignored")
    func nested() throws {
        let value: JSONValue = ["l": [["m": [0, 1, 2]], "x", ["m": [5, 6]]]]
        let pointers = try ["/l/1", "/l/2/m/0", "/l/9", "/zz", "/l/0/m/7", ""].map { try JSONPointer($0) }
        let (result, shifts) = value.removingWithShifts(pointers)
        #expect(result == ["l": [["m": [0, 1, 2]], ["m": [6]]]])
        let byPath = Dictionary(uniqueKeysWithValues: shifts.map { ($0.array.description, $0.keptIndices) })
        #expect(byPath == ["/l": [0, 2], "/l/2/m": [1]])
    }

    @Test("100,000 removals from one list are one rebuild")
    func many() {
        let value: JSONValue = ["l": .array((0..<100_000).map { .int(Int64($0)) })]
        let pointers = (0..<100_000).filter { $0 % 2 == 0 }.map { JSONPointer(tokens: ["l", String($0)]) }
        let result = value.removing(pointers)
        #expect(result["l"]?.arrayValue?.count == 50_000)
        #expect(result["l"]?.arrayValue?.first == 1)
    }
}
