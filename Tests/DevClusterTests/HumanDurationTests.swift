import DevCluster
import Foundation
import Testing

@Suite("Human-readable durations")
struct HumanDurationTests {
    @Test(
        "writes ages as duration.HumanDuration does",
        arguments: [
            (-3.0, "<invalid>"),
            (-2.0, "<invalid>"),
            (-1.5, "0s"),
            (-1.0, "0s"),
            (0.0, "0s"),
            (0.9, "0s"),
            (1.0, "1s"),
            (59.0, "59s"),
            (60.0, "60s"),
            (119.0, "119s"),
            (119.9, "119s"),
            (120.0, "2m"),
            (121.0, "2m1s"),
            (200.0, "3m20s"),
            (599.0, "9m59s"),
            (600.0, "10m"),
            (659.0, "10m"),
            (10_799.0, "179m"),
            (10_800.0, "3h"),
            (12_600.0, "3h30m"),
            (18_000.0, "5h"),
            (28_799.0, "7h59m"),
            (28_800.0, "8h"),
            (172_799.0, "47h"),
            (172_800.0, "2d"),
            (190_800.0, "2d5h"),
            (691_199.0, "7d23h"),
            (691_200.0, "8d"),
            (62_985_600.0, "729d"),
            (63_072_000.0, "2y"),
            (98_496_000.0, "3y45d"),
            (252_201_600.0, "7y364d"),
            (252_288_000.0, "8y"),
            (260_928_000.0, "8y"),
        ]
    )
    func formats(seconds: Double, expected: String) {
        #expect(HumanDuration.string(seconds) == expected)
    }

    @Test("measures from a timestamp to now")
    func since() {
        let created = Date(timeIntervalSince1970: 1_767_225_600)
        #expect(HumanDuration.string(since: created, now: created.addingTimeInterval(300)) == "5m")
        #expect(HumanDuration.string(since: created, now: created.addingTimeInterval(-10)) == "<invalid>")
    }
}
