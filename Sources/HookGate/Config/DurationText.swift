import Foundation

/// Durations written as `500ms`, `30s`, `5m`, `1h`, `2d`, or a number of seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value >= 0 else { continue }
            return milliseconds(value * factor * 1000)
        }
        guard let seconds = Double(trimmed), seconds >= 0 else { return nil }
        return milliseconds(seconds * 1000)
    }

    /// `250ms`, `15s`, `1.5s`, as a config would write it.
    public static func describe(_ duration: Duration) -> String {
        let milliseconds = Int64((duration.seconds * 1000).rounded())
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(Double(milliseconds) / 1000)s"
    }

    /// Nil when `value` is infinite or does not fit in 64-bit milliseconds (`1e300s`, `inf`).
    private static func milliseconds(_ value: Double) -> Duration? {
        let rounded = value.rounded()
        guard rounded.isFinite, rounded < Double(Int64.max) else { return nil }
        return .milliseconds(Int64(rounded))
    }
}
