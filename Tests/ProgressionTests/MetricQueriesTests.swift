import Progression
import Testing

@Suite("Built-in queries and MetricTemplate rendering")
struct MetricQueriesTests {
    @Test("the built-in templates are Flagger's text, tabs and trailing spaces included")
    func builtinTemplates() throws {
        let successRate = try #require(
            LinkerdQueries.query(for: "request-success-rate", namespace: "prod", target: "podinfo", interval: "1m")
        )
        #expect(
            successRate
                == "\n\tsum(\n\t\trate(\n\t\t\tresponse_total{\n\t\t\t\tnamespace=\"prod\",\n"
                + "\t\t\t\tdeployment=~\"podinfo\",\n\t\t\t\tclassification!=\"failure\",\n"
                + "\t\t\t\tdirection=\"inbound\"\n\t\t\t}[1m]\n\t\t)\n\t) \n\t/ \n\tsum(\n\t\trate(\n"
                + "\t\t\tresponse_total{\n\t\t\t\tnamespace=\"prod\",\n\t\t\t\tdeployment=~\"podinfo\",\n"
                + "\t\t\t\tdirection=\"inbound\"\n\t\t\t}[1m]\n\t\t)\n\t) \n\t* 100"
        )
        let duration = try #require(
            LinkerdQueries.query(for: "request-duration", namespace: "prod", target: "podinfo", interval: "30s")
        )
        #expect(
            PrometheusClient.compact(duration)
                == #" histogram_quantile( 0.99, sum( rate( response_latency_ms_bucket{ namespace="prod", "#
                + #"deployment=~"podinfo", direction="inbound" }[30s] ) ) by (le) )"#
        )
        #expect(LinkerdQueries.query(for: "error-rate", namespace: "prod", target: "podinfo", interval: "1m") == nil)
    }

    @Test(
        "renders every model name and templateVariables with any spacing",
        arguments: [
            (
                "{{ name }}/{{namespace}}/{{   target   }}/{{ service }}/{{ ingress }}/{{ interval }}",
                "canary/prod/podinfo/podinfo-svc/podinfo-ing/2m"
            ),
            (#"rate(x{direction="{{ variables.direction }}"}[{{interval}}])"#, #"rate(x{direction="inbound"}[2m])"#),
            ("{{variables.direction}}", "inbound"),
            ("sum( {{- interval -}} )", "sum(2m)"),
            ("{{/* a comment */}}up", "up"),
            ("no actions at all", "no actions at all"),
            ("", ""),
        ]
    )
    func renders(template: String, expected: String) throws {
        let rendered = try MetricTemplateRenderer.render(
            template,
            name: "canary",
            namespace: "prod",
            target: "podinfo",
            service: "podinfo-svc",
            ingress: "podinfo-ing",
            interval: "2m",
            variables: ["direction": "inbound"]
        )
        #expect(rendered == expected)
    }

    @Test(
        "an unknown variable is an error that names it",
        arguments: [
            ("sum(x{deployment=\"{{ deployment }}\"})", "\"deployment\""),
            ("{{ variables.missing }}", "\"missing\""),
            ("{{ .Name }}", "\".Name\""),
            ("sum({{ name )", "unclosed action"),
        ]
    )
    func unknownVariable(template: String, named: String) throws {
        let error = #expect(throws: MetricQueryError.self) {
            try MetricTemplateRenderer.render(
                template,
                name: "canary",
                namespace: "prod",
                target: "podinfo",
                service: "podinfo",
                interval: "1m",
                variables: ["direction": "inbound"]
            )
        }
        #expect(error?.kind == .template)
        #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
    }
}
