/// How serious an alert is, as `analysis.alerts[].severity` filters them: an alert entry receives the alerts at or
/// above its own severity.
public enum AlertSeverity: String, Sendable, Hashable, CaseIterable {
    case info
    case warn
    case error
}
