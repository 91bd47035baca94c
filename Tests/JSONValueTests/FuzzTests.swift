import JSONValue
import Testing

/// Random and mutated inputs must produce a value or a `JSONParseError`, never a crash or a hang.
@Suite("JSON fuzzing")
struct FuzzTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seed = Array(
        #"{"apiVersion":"admission.k8s.io/v1","request":{"uid":"1","object":{"spec":{"w":[1,2.5,-3e2,"s\u00e9",true,null]}}}}"#
            .utf8
    )

    @Test("random bytes never crash the parser")
    func randomBytes() {
        var random = SplitMix(state: 42)
        for _ in 0..<20_000 {
            let count = Int.random(in: 0..<64, using: &random)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = try? JSONValue(parsing: bytes)
        }
    }

    @Test("mutations of a valid document parse or fail cleanly, and what parses round-trips")
    func mutations() throws {
        var random = SplitMix(state: 7)
        let alphabet = Array(#"{}[]",:0123456789.eE+-\"tfnul"#.utf8)
        for _ in 0..<20_000 {
            var bytes = Self.seed
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random)!
                case 1: bytes.remove(at: index)
                case 2: bytes.insert(alphabet.randomElement(using: &random)!, at: index)
                default: bytes = Array(bytes.prefix(index))
                }
                if bytes.isEmpty { break }
            }
            if let value = try? JSONValue(parsing: bytes) {
                #expect(try JSONValue(parsing: value.serialized()) == value)
            }
        }
    }
}
