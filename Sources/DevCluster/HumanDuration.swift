import Foundation

/// The short age strings of `kubectl get` (`5s`, `3m20s`, `5h`, `2d`, `3y45d`), as apimachinery's
/// `duration.HumanDuration` writes them.
public enum HumanDuration {
    /// The human-readable form of a duration in seconds, with about two significant figures.
    ///
    /// Under two minutes shows seconds (`119s`); under ten minutes minutes and seconds (`9m59s`, or `2m` on the
    /// minute); under three hours minutes (`179m`); under eight hours hours and minutes (`7h59m`); under two days
    /// hours (`47h`); under eight days days and hours (`7d23h`); under two years days (`729d`); under eight years
    /// years and days (`7y364d`); then years. A duration of up to two seconds in the past reads `0s`; anything
    /// further in the past reads `<invalid>`.
    public static func string(_ seconds: Double) -> String {
        guard !seconds.isNaN else { return "<invalid>" }
        // Go works on an integer count of nanoseconds, which saturates near 292 years.
        let limit = Double(Int64.max) / 1e9
        let clamped = min(max(seconds, -limit), limit)
        let whole = Int64(clamped.rounded(.towardZero))
        if whole < -1 { return "<invalid>" }
        if whole < 0 { return "0s" }
        if whole < 60 * 2 { return "\(whole)s" }
        let minutes = whole / 60
        if minutes < 10 {
            let remainder = whole % 60
            return remainder == 0 ? "\(minutes)m" : "\(minutes)m\(remainder)s"
        }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = whole / 3600
        if hours < 8 {
            let remainder = minutes % 60
            return remainder == 0 ? "\(hours)h" : "\(hours)h\(remainder)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let remainder = hours % 24
            return remainder == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(remainder)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let days = (hours / 24) % 365
            return days == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(days)d"
        }
        return "\(hours / 24 / 365)y"
    }

    /// The age of something created at `timestamp`, as seen at `now`.
    public static func string(since timestamp: Date, now: Date) -> String {
        string(now.timeIntervalSince(timestamp))
    }
}
