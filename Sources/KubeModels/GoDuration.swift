/// A duration written the way Go's `time.ParseDuration` reads it: `10s`, `1m30s`, `1.5h`, `300ms`, `-2m`, `0`.
public struct GoDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length in nanoseconds.
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func seconds(_ seconds: Int64) -> GoDuration { GoDuration(nanoseconds: seconds * 1_000_000_000) }

    public static func < (lhs: GoDuration, rhs: GoDuration) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// The length in seconds.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// The length as a Swift `Duration`.
    public var duration: Duration { .nanoseconds(nanoseconds) }

    static let units: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Parses Go's duration syntax: an optional sign, then one or more decimal numbers each followed by a unit
    /// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone is zero. Returns `nil` for anything else.
    public init?(_ text: String) {
        var rest = Substring(text)
        var negative = false
        if let first = rest.first, first == "-" || first == "+" {
            negative = first == "-"
            rest = rest.dropFirst()
        }
        if rest == "0" {
            nanoseconds = 0
            return
        }
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1,
                let value = Double(number.hasPrefix(".") ? "0" + number : String(number))
            else { return nil }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = Self.units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += value * unit.1
            guard total < 9.223372036854775e18 else { return nil }
        }
        nanoseconds = Int64(negative ? -total : total)
    }

    /// Go's rendering: `1m30s`, `500ms`, `1h0m0s`, `0s`.
    public var description: String {
        if nanoseconds == 0 { return "0s" }
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        if magnitude < 1_000_000_000 {
            if magnitude < 1_000 { return "\(sign)\(magnitude)ns" }
            if magnitude < 1_000_000 { return sign + Self.trim(Double(magnitude) / 1e3) + "µs" }
            return sign + Self.trim(Double(magnitude) / 1e6) + "ms"
        }
        let hours = magnitude / 3_600_000_000_000
        let minutes = magnitude / 60_000_000_000 % 60
        let seconds = Double(magnitude % 60_000_000_000) / 1e9
        var text = sign
        if hours > 0 { text += "\(hours)h" }
        if hours > 0 || minutes > 0 { text += "\(minutes)m" }
        return text + Self.trim(seconds) + "s"
    }

    static func trim(_ value: Double) -> String {
        if value.rounded() == value { return String(Int64(value)) }
        var text = String(value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
