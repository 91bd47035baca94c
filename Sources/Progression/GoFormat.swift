import Foundation
import KubeModels

/// Go's `fmt` renderings of numbers, so our messages read exactly like Flagger's.
enum GoFormat {
    /// Go's `%v` (shortest `%g`) for a `float64`: `99`, `99.5`, `500000`, `1e+06`, `1e-05`, `NaN`, `+Inf`.
    static func value(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Inf" : "+Inf" }
        let sign = number.sign == .minus ? "-" : ""
        if number == 0 { return sign + "0" }
        guard var decimal = ShortestDecimal(number.magnitude) else { return number.description }
        decimal.trim()
        let exponent = decimal.pointPosition - 1
        if exponent < -4 || exponent >= 6 {
            return sign + decimal.scientific()
        }
        return sign + decimal.fixed(fractionDigits: max(decimal.digits.count - decimal.pointPosition, 0))
    }

    /// Go's `%.2f`: two fraction digits, rounded from the exact binary value as C's `printf` does.
    static func twoDecimals(_ number: Double) -> String {
        if number.isNaN { return "NaN" }
        if number.isInfinite { return number < 0 ? "-Inf" : "+Inf" }
        return String(format: "%.2f", number)
    }

    /// `milliseconds` as a Go `time.Duration` prints: `500ms`, `1.2s`, `8m20s`.
    static func milliseconds(_ milliseconds: Int64) -> String {
        let nanoseconds = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        if nanoseconds.overflow { return "\(milliseconds)ms" }
        return GoDuration(nanoseconds: nanoseconds.partialValue).description
    }

    /// Go's `int64(x)` for a float: truncation toward zero, clamped instead of undefined when out of range.
    static func truncate(_ number: Double) -> Int64 {
        if number.isNaN { return 0 }
        if number >= 9.2e18 { return .max }
        if number <= -9.2e18 { return .min }
        return Int64(number)
    }
}

/// The shortest decimal digits that read back as a double, with the position of the decimal point.
struct ShortestDecimal {
    /// The significant digits, e.g. `[1, 2]` for 1.2 or 120.
    var digits: [UInt8]
    /// Where the decimal point falls: the value is `0.d1d2d3… × 10^pointPosition`.
    var pointPosition: Int

    /// Reads Swift's shortest round-trip text of a positive finite `magnitude` (`99.5`, `1e-05`, `1.5e+16`).
    init?(_ magnitude: Double) {
        let text = magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let marker = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<marker]
            guard let value = Int(text[text.index(after: marker)...].replacingOccurrences(of: "+", with: "")) else {
                return nil
            }
            exponent = value
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard let integer = parts.first, parts.count <= 2 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        var digits: [UInt8] = []
        for character in integer + fraction {
            guard let digit = character.wholeNumberValue else { return nil }
            digits.append(UInt8(digit))
        }
        self.digits = digits
        self.pointPosition = integer.count + exponent
    }

    /// Drops leading zeros (moving the point) and trailing zeros.
    mutating func trim() {
        while let first = digits.first, first == 0, digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while let last = digits.last, last == 0, digits.count > 1 { digits.removeLast() }
    }

    /// Go's `%e` with all significant digits: `1e+06`, `1.234567e+06`, `1e-05`.
    func scientific() -> String {
        var text = String(digits[0])
        if digits.count > 1 {
            text += "." + digits.dropFirst().map(String.init).joined()
        }
        let exponent = pointPosition - 1
        let magnitude = abs(exponent)
        return text + (exponent < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }

    /// Go's `%f` with `fractionDigits` digits after the point.
    func fixed(fractionDigits: Int) -> String {
        var text = ""
        if pointPosition > 0 {
            for index in 0..<pointPosition { text += index < digits.count ? String(digits[index]) : "0" }
        } else {
            text = "0"
        }
        if fractionDigits > 0 {
            text += "."
            for offset in 0..<fractionDigits {
                let index = pointPosition + offset
                text += index >= 0 && index < digits.count ? String(digits[index]) : "0"
            }
        }
        return text
    }
}
