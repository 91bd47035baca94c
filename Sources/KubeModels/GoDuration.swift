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
        func isNumeric(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) || byte == UInt8(ascii: ".") }
        var total = 0.0
        while index < bytes.count {
            let numberStart = index
            var dots = 0
            while index < bytes.count, isNumeric(bytes[index]) {
                if bytes[index] == UInt8(ascii: ".") { dots += 1 }
                index += 1
            }
            let number = bytes[numberStart..<index]
            guard !number.isEmpty, dots <= 1, number.count > dots,
                let value = Self.decimal(number)
            else { return nil }
            let unitStart = index
            while index < bytes.count, !isNumeric(bytes[index]) { index += 1 }
            guard let scale = Self.scale(of: bytes[unitStart..<index]) else { return nil }
            total += value * scale
            guard total < 9.223372036854775e18 else { return nil }
        }
        nanoseconds = Int64(negative ? -total : total)
    }

    /// The value of ASCII digits with at most one `.` (`5`, `1.5`, `.5`, `5.`), rounded as `Double` parses it.
    static func decimal(_ digits: ArraySlice<UInt8>) -> Double? {
        var whole: Int64 = 0
        if !digits.contains(UInt8(ascii: ".")), digits.count <= 15 {
            for byte in digits { whole = whole * 10 + Int64(byte - 0x30) }
            return Double(whole)
        }
        let text = String(decoding: digits, as: UTF8.self)
        return Double(text.hasPrefix(".") ? "0" + text : text)
    }

    /// Nanoseconds per unit: `ns`, `us`, `µs` (micro sign), `μs` (Greek mu), `ms`, `s`, `m`, `h`.
    static func scale(of unit: ArraySlice<UInt8>) -> Double? {
        switch Array(unit) {
        case [0x6E, 0x73]: return 1
        case [0x75, 0x73], [0xC2, 0xB5, 0x73], [0xCE, 0xBC, 0x73]: return 1e3
        case [0x6D, 0x73]: return 1e6
        case [0x73]: return 1e9
        case [0x6D]: return 60e9
        case [0x68]: return 3600e9
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
