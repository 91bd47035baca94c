import KubeModels
import Testing

@Suite("Go durations")
struct GoDurationTests {
    static let parsed: [(text: String, nanoseconds: Int64, seconds: Double)] = [
        ("0", 0, 0),
        ("-0", 0, 0),
        ("+0", 0, 0),
        ("10s", 10_000_000_000, 10),
        ("1m30s", 90_000_000_000, 90),
        ("1.5h", 5_400_000_000_000, 5400),
        (".5s", 500_000_000, 0.5),
        ("300ms", 300_000_000, 0.3),
        ("2h45m", 9_900_000_000_000, 9900),
        ("1µs", 1_000, 0.000_001),
        ("1μs", 1_000, 0.000_001),
        ("1us", 1_000, 0.000_001),
        ("100ns", 100, 0.000_000_1),
        ("-1m", -60_000_000_000, -60),
        ("+5s", 5_000_000_000, 5),
        ("1h0m0s", 3_600_000_000_000, 3600),
        ("1m0.5s", 60_500_000_000, 60.5),
        // Whole parts in integers, as Go: no binary rounding.
        ("2.01s", 2_010_000_000, 2.01),
        ("0.1ms", 100_000, 0.0001),
        ("1.0000000000000000000001s", 1_000_000_000, 1),
        ("9223372036854775807ns", Int64.max, Double(Int64.max) / 1e9),
        ("-9223372036854775808ns", Int64.min, Double(Int64.min) / 1e9),
        ("2562047h", 9_223_369_200_000_000_000, 9_223_369_200),
    ]

    @Test("Go's ParseDuration accepts these, with these lengths", arguments: parsed)
    func accepted(text: String, nanoseconds: Int64, seconds: Double) throws {
        let duration = try #require(GoDuration(text), "\(text) must parse")
        #expect(duration.nanoseconds == nanoseconds)
        #expect(duration.seconds == seconds)
    }

    @Test(
        "Go's ParseDuration refuses these",
        arguments: [
            "", "1", "00", "1d", "1 m", "1h-30m", "s", ".", "-", "+", "1e3s", "1m 30s", " 1m", "1m ", "1.2.3s", "1S",
            "9223372036854775808ns", "2562048h", "99999999999999999999s",
            // Two parts that each fit but whose sum does not (2^63 + 2^63 would wrap a UInt64).
            "9223372036854775808ns9223372036854775808ns", "2562047h2562047h",
        ]
    )
    func refused(text: String) {
        #expect(GoDuration(text) == nil, "\"\(text)\" must not parse")
    }

    static let rendered: [(nanoseconds: Int64, text: String)] = [
        (90_000_000_000, "1m30s"),
        (500_000_000, "500ms"),
        (0, "0s"),
        (10_000_000_000, "10s"),
        (3_600_000_000_000, "1h0m0s"),
        (5_400_000_000_000, "1h30m0s"),
        (1_500_000_000, "1.5s"),
        (1_000, "1µs"),
        (1_500, "1.5µs"),
        (100, "100ns"),
        (-90_000_000_000, "-1m30s"),
    ]

    @Test("durations render as Go renders them", arguments: rendered)
    func rendering(nanoseconds: Int64, text: String) {
        #expect(GoDuration(nanoseconds: nanoseconds).description == text)
    }

    @Test("a rendered duration parses back to itself", arguments: ["1m30s", "500ms", "0s", "1h0m0s", "1.5s"])
    func roundTrip(text: String) throws {
        #expect(try #require(GoDuration(text)).description == text)
    }

    @Test("durations compare by length")
    func ordering() throws {
        #expect(try #require(GoDuration("9s")) < .seconds(10))
        #expect(try #require(GoDuration("1m")) > .seconds(10))
        #expect(try #require(GoDuration("60s")) == #require(GoDuration("1m")))
    }
}
