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

    /// Parses Go's duration syntax: an optional sign, then one or more decimal numbers each followed by a unit
    /// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`); `0` alone is zero. Returns `nil` for anything else.
    public init?(_ text: String) {
        // Bytes, not Characters: this runs for every interval and timeout of every reviewed Canary.
        let bytes = Array(text.utf8)
        var index = 0
        var negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        if bytes.count == index + 1, bytes[index] == UInt8(ascii: "0") {
            nanoseconds = 0
            return
        }
        guard index < bytes.count else { return nil }
        // Go's arithmetic: the whole part and the unit in integers, only a fraction through Double, so `2.01s` is
        // exactly 2010000000ns and the largest durations overflow exactly where Go's do.
        let limit = UInt64(1) << 63
        var total: UInt64 = 0
        while index < bytes.count {
            var whole: UInt64 = 0
            let wholeStart = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                let digit = UInt64(bytes[index] - 0x30)
                guard whole <= limit / 10 else { return nil }
                whole = whole * 10 + digit
                guard whole <= limit else { return nil }
                index += 1
            }
            var hasDigits = index > wholeStart
            var fraction: UInt64 = 0
            var fractionScale = 1.0
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let fractionStart = index
                var overflowed = false
                while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                    let digit = UInt64(bytes[index] - 0x30)
                    if !overflowed, fraction <= (limit - 1) / 10, fraction * 10 + digit <= limit {
                        fraction = fraction * 10 + digit
                        fractionScale *= 10
                    } else {
                        overflowed = true  // Go ignores digits beyond what an int64 holds.
                    }
                    index += 1
                }
                hasDigits = hasDigits || index > fractionStart
            }
            guard hasDigits else { return nil }
            let unitStart = index
            while index < bytes.count, !(0x30...0x39).contains(bytes[index]), bytes[index] != UInt8(ascii: ".") {
                index += 1
            }
            guard let unit = Self.unit(bytes[unitStart..<index]) else { return nil }
            guard whole <= limit / unit else { return nil }
            var value = whole * unit
            if fraction > 0 {
                value += UInt64(Double(fraction) * (Double(unit) / fractionScale))
                guard value <= limit else { return nil }
            }
            guard value <= limit - total else { return nil }
            total += value
        }
        if negative {
            nanoseconds = total == limit ? Int64.min : -Int64(total)
        } else {
            guard total < limit else { return nil }
            nanoseconds = Int64(total)
        }
    }

    /// Nanoseconds per unit: `ns`, `us`, `µs` (micro sign), `μs` (Greek mu), `ms`, `s`, `m`, `h`.
    static func unit(_ unit: ArraySlice<UInt8>) -> UInt64? {
        switch Array(unit) {
        case [0x6E, 0x73]: return 1
        case [0x75, 0x73], [0xC2, 0xB5, 0x73], [0xCE, 0xBC, 0x73]: return 1_000
        case [0x6D, 0x73]: return 1_000_000
        case [0x73]: return 1_000_000_000
        case [0x6D]: return 60_000_000_000
        case [0x68]: return 3_600_000_000_000
        default: return nil
        }
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
