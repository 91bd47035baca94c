import CanaryModel
import Foundation

/// The PromQL of Flagger's Linkerd observer for the two built-in metrics.
///
/// The templates keep Flagger's layout (newlines and tabs) character for character; ``PrometheusClient`` collapses
/// the whitespace before sending, so Prometheus receives exactly what Flagger sends, e.g. for `prod`/`podinfo`/`1m`:
/// ` sum( rate( response_total{ namespace="prod", deployment=~"podinfo", classification!="failure",
/// direction="inbound" }[1m] ) ) / sum( rate( response_total{ namespace="prod", deployment=~"podinfo",
/// direction="inbound" }[1m] ) ) * 100` (one line, leading space included).
public enum LinkerdQueries {
    /// `request-success-rate`: the percentage of inbound responses not classified as failures.
    public static let requestSuccessRateTemplate = [
        "",
        "\tsum(",
        "\t\trate(",
        "\t\t\tresponse_total{",
        "\t\t\t\tnamespace=\"{{ namespace }}\",",
        "\t\t\t\tdeployment=~\"{{ target }}\",",
        "\t\t\t\tclassification!=\"failure\",",
        "\t\t\t\tdirection=\"inbound\"",
        "\t\t\t}[{{ interval }}]",
        "\t\t)",
        "\t) ",
        "\t/ ",
        "\tsum(",
        "\t\trate(",
        "\t\t\tresponse_total{",
        "\t\t\t\tnamespace=\"{{ namespace }}\",",
        "\t\t\t\tdeployment=~\"{{ target }}\",",
        "\t\t\t\tdirection=\"inbound\"",
        "\t\t\t}[{{ interval }}]",
        "\t\t)",
        "\t) ",
        "\t* 100",
    ].joined(separator: "\n")

    /// `request-duration`: the 99th percentile of inbound response latency, in milliseconds.
    public static let requestDurationTemplate = [
        "",
        "\thistogram_quantile(",
        "\t\t0.99,",
        "\t\tsum(",
        "\t\t\trate(",
        "\t\t\t\tresponse_latency_ms_bucket{",
        "\t\t\t\t\tnamespace=\"{{ namespace }}\",",
        "\t\t\t\t\tdeployment=~\"{{ target }}\",",
        "\t\t\t\t\tdirection=\"inbound\"",
        "\t\t\t\t}[{{ interval }}]",
        "\t\t\t)",
        "\t\t) by (le)",
        "\t)",
    ].joined(separator: "\n")

    /// The template of built-in metric `metric`, or `nil` when the name is not built in.
    public static func template(for metric: String) -> String? {
        switch BuiltinMetric(rawValue: metric) {
        case .requestSuccessRate: return requestSuccessRateTemplate
        case .requestDuration: return requestDurationTemplate
        case nil: return nil
        }
    }

    /// The rendered query of built-in metric `metric` for the target Deployment `target` in `namespace` over
    /// `interval` (a Prometheus range such as `1m`), or `nil` when `metric` is not built in.
    ///
    /// The text keeps Flagger's whitespace; pass it to ``PrometheusClient/query(_:)``, which compacts it.
    public static func query(for metric: String, namespace: String, target: String, interval: String) -> String? {
        guard let template = template(for: metric) else { return nil }
        return try? MetricTemplateRenderer.render(
            template,
            name: target,
            namespace: namespace,
            target: target,
            service: target,
            interval: interval,
            variables: [:]
        )
    }
}

/// Renders a MetricTemplate query the way Flagger's Go `text/template` does for the names it defines.
///
/// An action is `{{ name }}`, `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ ingress }}`, `{{ interval }}`
/// or `{{ variables.KEY }}`, with any spaces inside the braces; `{{- x -}}` trims the whitespace beside the action
/// and `{{/* … */}}` is a comment, as in Go. Anything else inside braces, or a `variables.KEY` missing from
/// `templateVariables`, is a ``MetricQueryError/Kind-swift.enum/template`` error that names it.
public enum MetricTemplateRenderer {
    /// Renders `query`.
    ///
    /// - Parameters:
    ///   - name: the Canary's name.
    ///   - namespace: the Canary's namespace.
    ///   - target: the target workload's name.
    ///   - service: `spec.service.name`, else the target's name.
    ///   - ingress: `spec.ingressRef.name`, else the target's name.
    ///   - interval: the metric's interval (default `1m`).
    ///   - variables: the metric's `templateVariables`.
    /// - Throws: ``MetricQueryError`` of kind ``MetricQueryError/Kind-swift.enum/template``.
    public static func render(
        _ query: String,
        name: String,
        namespace: String,
        target: String,
        service: String,
        ingress: String = "",
        interval: String,
        variables: [String: String]
    ) throws(MetricQueryError) -> String {
        let model = [
            "name": name, "namespace": namespace, "target": target, "service": service, "ingress": ingress,
            "interval": interval,
        ]
        var output = ""
        var rest = Substring(query)
        while let open = rest.range(of: "{{") {
            var text = rest[..<open.lowerBound]
            var inside = rest[open.upperBound...]
            guard let close = inside.range(of: "}}") else {
                throw MetricQueryError(.template, "template: unclosed action: \(String(rest[open.lowerBound...]))")
            }
            var action = inside[..<close.lowerBound]
            inside = inside[close.upperBound...]
            // Go's trim markers: "{{- " and " -}}" (the dash must be followed or preceded by a space).
            if action.hasPrefix("- ") || action == "-" {
                action = action.dropFirst()
                while let last = text.last, last.isWhitespace { text = text.dropLast() }
            }
            var trimFollowing = false
            if action.hasSuffix(" -") {
                action = action.dropLast()
                trimFollowing = true
            }
            output += text
            output += try value(of: action, model: model, variables: variables)
            if trimFollowing {
                inside = inside.drop(while: \.isWhitespace)
            }
            rest = inside
        }
        output += rest
        return output
    }

    static func value(
        of action: Substring,
        model: [String: String],
        variables: [String: String]
    ) throws(MetricQueryError) -> String {
        let word = action.trimmingSpaces()
        if word.hasPrefix("/*"), word.hasSuffix("*/") { return "" }
        if let value = model[String(word)] { return value }
        if word.hasPrefix("variables.") {
            let key = String(word.dropFirst("variables.".count))
            if let value = variables[key] { return value }
            throw MetricQueryError(
                .template,
                "template variable \"\(key)\" is not defined in the metric's templateVariables"
                    + (variables.isEmpty ? "" : " (defined: \(variables.keys.sorted().joined(separator: ", ")))")
            )
        }
        if word.isEmpty {
            throw MetricQueryError(.template, "template: empty action {{}}")
        }
        throw MetricQueryError(
            .template,
            "template variable \"\(word)\" is not defined; use name, namespace, target, service, ingress, interval "
                + "or variables.KEY"
        )
    }
}

extension Substring {
    /// The substring without leading and trailing whitespace.
    func trimmingSpaces() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result = result.dropFirst() }
        while let last = result.last, last.isWhitespace { result = result.dropLast() }
        return result
    }
}
