"""The Helm charts, checked with the real Helm library (helm-python-sdk bundles Helm v4): lint, render for several
value sets, the schema, and the proof that the charts and the kustomize manifests install the same objects."""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import helm_python as helm
import pytest

from support import (
    CHART,
    LOADTESTER_CHART,
    MANIFESTS,
    differences,
    fledge_binary,
    free_port,
    index,
    kustomize,
    openssl,
    render,
    secret_files,
)

# Flags the lead adds to `fledge serve` (issue 14). The chart passes them when their values are set; until the
# binary has them, `fledge serve --help` does not list them.
PENDING_FLAGS = {"--slack-url", "--slack-token", "--slack-channel", "--slack-user", "--msteams-url",
                 "--alert-proxy-url", "--cluster-name", "--event-webhook"}

EVERY_OPTION = {
    "meshProvider": "gatewayapi:v1",
    "metricsServer": "http://prometheus.linkerd-viz:9090",
    "namespace": "prod",
    "logLevel": "debug",
    "leaderElection": {"enabled": True, "namespace": "leases", "id": "fledge-lock"},
    "slack": {"url": "https://hooks.slack.com/services/T/B/X", "token": "xoxb-1", "channel": "#releases",
              "user": "fledge"},
    "msteams": {"url": "https://example.webhook.office.com/webhookb2/x"},
    "alertProxyUrl": "http://proxy.internal:3128",
    "clusterName": "staging",
    "eventWebhook": "https://events.internal/fledge",
    "noCrossNamespaceRefs": True,
    "showAnswersInEvents": True,
    "watchSecrets": True,
    "tickTimeout": "10m",
    "server": {"drainDelay": "7s", "shutdownTimeout": 20, "tlsMinVersion": "1.3",
               "tlsCipherSuites": "ECDHE-ECDSA-AES128-GCM-SHA256", "memoryBudgetMiB": 16, "admissionThreads": 2,
               "headerTimeout": "5s", "bodyTimeout": "20s", "maxConnections": 500,
               "primaryEditors": ["system:serviceaccount:ci:deployer"], "http2": True},
    "metrics": {"port": 9091, "tokenSecret": {"name": "fledge-metrics-token", "key": "token"}},
    "loadtester": {"urls": ["http://flagger-loadtester.prod/"],
                   "tokenSecret": {"name": "fledge-loadtester-token", "key": "token"}},
}


def by_name(configuration: dict) -> dict[str, dict]:
    return {webhook["name"]: webhook for webhook in configuration["webhooks"]}


# -------------------------------------------------------------------------------------------------------------
# Lint and schema


@pytest.mark.parametrize("chart", [CHART, LOADTESTER_CHART], ids=["fledge", "fledge-loadtester"])
def test_lint_finds_nothing_beyond_information(chart: Path) -> None:
    report = helm.lint(str(chart), strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] > 1] == [], report["messages"]


@pytest.mark.parametrize("values, field, message", [
    ({"webhook": {"canaries": {"failurePolicy": "fail"}}}, "/webhook/canaries/failurePolicy",
     "value must be one of 'Fail', 'Ignore'"),
    ({"certificates": {"mode": "vault"}}, "/certificates/mode",
     "value must be one of 'self-signed', 'cert-manager', 'existing-secret'"),
    ({"meshProvider": "istio"}, "/meshProvider", "value must be one of"),
    ({"leaderElection": {"enabled": True, "replicaCount": 2}}, "/leaderElection",
     "additional properties 'replicaCount' not allowed"),
    ({"replicaCount": "2"}, "/replicaCount", "got string, want integer"),
    ({"server": {"drainDelay": "5 seconds"}}, "/server/drainDelay", "does not match pattern"),
    ({"server": {"drainDelay": "5s", "tlsMinVersion": "1.1"}}, "/server/tlsMinVersion", "value must be one of"),
    ({"webhook": {"canaries": {"failurePolicy": "Fail", "timeoutSeconds": 31}}}, "/webhook/canaries/timeoutSeconds",
     "maximum: got 31, want 30"),
    ({"slack": {"url": "hooks.slack.com/x"}}, "/slack/url", "does not match pattern"),
])
def test_schema_rejects_a_bad_value_naming_the_field(values: dict, field: str, message: str) -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmValuesError) as refused:
        chart.validate_schema(values)
    text = str(refused.value)
    assert f"at '{field}'" in text and message in text, text


def test_schema_accepts_every_documented_option() -> None:
    rendered = render(values=EVERY_OPTION)
    assert rendered.find("Deployment")


def test_install_refuses_a_bad_value_before_anything_is_rendered() -> None:
    with helm.Chart.load(str(CHART)) as chart, pytest.raises(helm.HelmError) as refused:
        chart.render({"webhook": {"deployments": {"failurePolicy": "Sometimes", "timeoutSeconds": 2}}},
                     name="fledge", namespace="fledge-system")
    assert "/webhook/deployments/failurePolicy" in str(refused.value)


@pytest.mark.parametrize("values, message", [
    ({"leaderElection": {"enabled": False}},
     "leaderElection.enabled: Invalid value: false: replicaCount is 2; without leader election run one replica"),
    ({"loadtester": {"tokenSecret": {"name": "t", "key": "token"}}},
     "loadtester.urls: Required value: loadtester.tokenSecret needs at least one load tester URL"),
    ({"loadtester": {"urls": ["http://flagger-loadtester.prod/"]}},
     "loadtester.tokenSecret.name: Required value"),
    ({"metrics": {"port": 9443}},
     "metrics.port: Invalid value: 9443: the webhook server listens on 9443; choose another port"),
    ({"terminationGracePeriodSeconds": 25},
     "terminationGracePeriodSeconds: Invalid value: 25: must be longer than server.shutdownTimeout (25 s)"),
])
def test_values_that_do_not_fit_together_are_refused_with_the_fix(values: dict, message: str) -> None:
    with pytest.raises(helm.HelmRenderError) as refused:
        render(values=values)
    assert message in str(refused.value)


def test_loadtester_schema_and_checks() -> None:
    with helm.Chart.load(str(LOADTESTER_CHART)) as chart:
        with pytest.raises(helm.HelmValuesError) as refused:
            chart.validate_schema({"replicaCount": 2})
        assert "at '/replicaCount'" in str(refused.value) and "maximum: got 2, want 1" in str(refused.value)
        with pytest.raises(helm.HelmValuesError) as refused:
            chart.validate_schema({"networkPolicy": {"enabled": True, "kubernetesAPI": {"cidrs": ["10.0.0.1"]}}})
        assert "/networkPolicy/kubernetesAPI/cidrs/0" in str(refused.value)


# -------------------------------------------------------------------------------------------------------------
# One source of truth: the charts install what the kustomize manifests install


def compare(kustomized: list[dict], rendered: list[dict]) -> None:
    left, right = index(kustomized), index(rendered)
    assert sorted(left) == sorted(right), f"objects differ: kustomize only {sorted(set(left) - set(right))}, " \
                                          f"chart only {sorted(set(right) - set(left))}"
    problems = [f"{key}: {d}" for key in sorted(left) for d in differences(left[key], right[key])]
    assert problems == [], "\n".join(problems)


def without(objects: list[dict], *kinds: str) -> list[dict]:
    return [o for o in objects if o["kind"] not in kinds]


def test_defaults_render_what_kubectl_apply_k_manifests_installs() -> None:
    """Default values against manifests/ (base + CRDs): the same objects and specs, but for Helm's labels, the
    certificate (made by the chart, by certs/install.sh for kustomize) and the Namespace (Helm installs into an
    existing namespace; docs/install-helm.md labels it)."""
    base = kustomize(MANIFESTS)
    assert {o["kind"] for o in base} >= {"Namespace", "CustomResourceDefinition"}
    chart = render().objects
    assert [o["metadata"]["name"] for o in chart if o["kind"] == "Secret"] == ["fledge-webhook-tls"]
    compare(without(base, "Namespace", "CustomResourceDefinition"), without(chart, "Secret"))


def test_existing_secret_without_a_ca_is_exactly_the_kustomize_base() -> None:
    """certs/install.sh works on a Helm install too: no Secret, no caBundle, like manifests/base."""
    base = kustomize(MANIFESTS)
    chart = render(values={"certificates": {"mode": "existing-secret"}}).objects
    compare(without(base, "Namespace", "CustomResourceDefinition"), chart)
    for configuration in [o for o in chart if "webhooks" in o]:
        assert all("caBundle" not in w["clientConfig"] for w in configuration["webhooks"])


def test_cert_manager_mode_renders_the_cert_manager_overlay() -> None:
    overlay = kustomize(MANIFESTS / "cert-manager")
    chart = render(values={"certificates": {"mode": "cert-manager"}}).objects
    compare(without(overlay, "Namespace", "CustomResourceDefinition"), chart)
    assert {o["kind"] for o in chart} >= {"Issuer", "Certificate"}


def test_client_auth_renders_the_client_auth_component() -> None:
    with_component = kustomize(MANIFESTS, components=[MANIFESTS / "client-auth"])
    chart = render(values={"certificates": {"mode": "existing-secret"}, "clientAuth": {"enabled": True}}).objects
    compare(without(with_component, "Namespace", "CustomResourceDefinition"), chart)


def test_loadtester_chart_renders_manifests_loadtester() -> None:
    """The release flagger-loadtester in prod is manifests/loadtester/, given the API server address that the
    kustomize example leaves as a placeholder (the chart reads it from the cluster at install)."""
    kustomized = kustomize(MANIFESTS / "loadtester")
    placeholder = next(o for o in kustomized if o["kind"] == "NetworkPolicy")["spec"]["egress"][1]["to"][0]
    chart = render(LOADTESTER_CHART, {"networkPolicy": {"enabled": True, "kubernetesAPI": {
        "cidrs": [placeholder["ipBlock"]["cidr"]]}}}, name="flagger-loadtester", namespace="prod").objects
    compare(kustomized, chart)


def test_the_chart_ships_the_generated_crds() -> None:
    shipped = sorted(p.name for p in (CHART / "crds").iterdir())
    generated = sorted(p.name for p in (MANIFESTS / "crds").glob("*.yaml") if p.name != "kustomization.yaml")
    assert shipped == generated
    for name in shipped:
        assert (CHART / "crds" / name).read_text() == (MANIFESTS / "crds" / name).read_text(), \
            f"charts/fledge/crds/{name} is stale: copy manifests/crds/{name} (generated by `fledge crds`)"


# -------------------------------------------------------------------------------------------------------------
# Value sets


def test_defaults_keep_the_hardening() -> None:
    rendered = render()
    pod = rendered.find("Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert container["resources"]["limits"]["memory"] == "320Mi"
    assert "subPath" not in json.dumps(container["volumeMounts"])
    policy = rendered.find("NetworkPolicy")["spec"]
    assert policy["egress"][1]["to"][0]["ipBlock"] == {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}
    rules = rendered.find("ClusterRole")["rules"]
    assert not any("delete" in r["verbs"] for r in rules)
    secrets = next(r for r in rules if "secrets" in r["resources"])
    assert "list" not in secrets["verbs"] and "watch" not in secrets["verbs"]
    assert rendered.find("PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_self_signed_certificate_is_valid_for_the_service_and_is_the_webhooks_ca() -> None:
    rendered = render()
    secret = rendered.find("Secret", "fledge-webhook-tls")
    with tempfile.TemporaryDirectory() as directory:
        files = secret_files(secret, Path(directory))
        assert "OK" in openssl("verify", "-CAfile", str(files["ca.crt"]), str(files["tls.crt"]))
        text = openssl("x509", "-in", str(files["tls.crt"]), "-noout", "-text")
        for name in ["fledge", "fledge.fledge-system", "fledge.fledge-system.svc",
                     "fledge.fledge-system.svc.cluster.local"]:
            assert f"DNS:{name}" in text
        assert "id-ecPublicKey" in text and "prime256v1" in text
        assert "TLS Web Server Authentication" in text
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        for webhook in rendered.find(kind)["webhooks"]:
            assert webhook["clientConfig"]["caBundle"] == secret["data"]["ca.crt"]
    # The CA's key is not kept anywhere.
    assert sorted(secret["data"]) == ["ca.crt", "tls.crt", "tls.key"]


def test_fledge_serve_accepts_the_self_signed_certificate_the_way_the_api_server_checks_it() -> None:
    """The chart's certificate in `fledge serve` (as the pod mounts it), verified as kube-apiserver does: against
    the webhooks' caBundle, by the Service's DNS name, with a real AdmissionReview."""
    rendered = render()
    secret = rendered.find("Secret", "fledge-webhook-tls")
    ca = base64.b64decode(by_name(rendered.find("ValidatingWebhookConfiguration"))["validate.canaries.flagger.app"]
                          ["clientConfig"]["caBundle"]).decode()
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        secret_files(secret, Path(directory))
        server = subprocess.Popen([str(fledge_binary()), "serve", "--admission-only", "--listen", f"127.0.0.1:{port}",
                                   "--tls-cert-dir", directory, "--metrics-listen", "off"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            context = ssl.create_default_context(cadata=ca)
            review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
                "uid": "chart-1", "kind": {"group": "flagger.app", "version": "v1beta1", "kind": "Canary"},
                "resource": {"group": "flagger.app", "version": "v1beta1", "resource": "canaries"},
                "operation": "CREATE", "namespace": "prod", "name": "podinfo",
                "userInfo": {"username": "kubernetes-admin"},
                "object": {"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
                           "metadata": {"name": "podinfo", "namespace": "prod"},
                           "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"},
                                    "service": {"port": 9898},
                                    "analysis": {"interval": "10s", "threshold": 5, "maxWeight": 50,
                                                 "stepWeight": 5}}}}}
            answer = post_when_listening(port, context, "/validate-flagger-app-v1beta1-canary", review, server)
            assert answer["response"]["uid"] == "chart-1"
            assert answer["response"]["allowed"] is True
        finally:
            server.terminate()
            server.wait(60)


def post_when_listening(port: int, context: ssl.SSLContext, path: str, body: dict, server: subprocess.Popen) -> dict:
    """POSTs to the server once it listens. It retries only refused connections while the process is alive; a
    TLS or HTTP failure fails at once."""
    import socket

    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                    context.wrap_socket(raw, server_hostname="fledge.fledge-system.svc") as tls:
                payload = json.dumps(body).encode()
                tls.sendall(f"POST {path} HTTP/1.1\r\nHost: fledge.fledge-system.svc\r\nContent-Type: application/json"
                            f"\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
                data = b""
                while chunk := tls.recv(65536):
                    data += chunk
            head, _, content = data.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
            return json.loads(content)
        except ConnectionRefusedError:
            if server.poll() is not None:
                raise AssertionError(f"fledge serve exited: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.05)  # waiting for the listener to bind, not for a result


def test_every_flag_the_chart_passes_is_one_fledge_serve_knows() -> None:
    args = render(values=EVERY_OPTION).args()
    flags = {a.split("=", 1)[0] for a in args if a.startswith("--")}
    help_text = subprocess.run([str(fledge_binary()), "serve", "--help"], capture_output=True, text=True).stdout
    known = set(re.findall(r"(--[a-z0-9-]+)", help_text))
    unknown = flags - known
    assert unknown <= PENDING_FLAGS, f"flags the chart passes that fledge serve does not know: " \
                                     f"{unknown - PENDING_FLAGS}"


def test_every_option_reaches_its_flag() -> None:
    rendered = render(values=EVERY_OPTION)
    args = rendered.args()
    for expected in [
        "--default-provider=gatewayapi:v1", "--metrics-server=http://prometheus.linkerd-viz:9090", "--namespace=prod",
        "--log-level=debug", "--leader-election-namespace=leases", "--leader-election-id=fledge-lock",
        "--slack-url=https://hooks.slack.com/services/T/B/X", "--slack-token=xoxb-1", "--slack-channel=#releases",
        "--slack-user=fledge", "--msteams-url=https://example.webhook.office.com/webhookb2/x",
        "--alert-proxy-url=http://proxy.internal:3128", "--cluster-name=staging",
        "--event-webhook=https://events.internal/fledge", "--no-cross-namespace-refs", "--show-answers-in-events",
        "--watch-secrets", "--tick-timeout=10m", "--drain-delay=7s", "--shutdown-timeout=20", "--tls-min-version=1.3",
        "--tls-cipher-suites=ECDHE-ECDSA-AES128-GCM-SHA256", "--memory-budget-mib=16", "--admission-threads=2",
        "--header-timeout=5s", "--body-timeout=20s", "--max-connections=500", "--http2",
        "--metrics-listen=0.0.0.0:9091", "--metrics-token-file=/etc/fledge/metrics-token/token",
        "--loadtester-url=http://flagger-loadtester.prod/",
        "--loadtester-token-file=/etc/fledge/loadtester-token/token",
        "--primary-editors=system:serviceaccount:fledge-system:fledge,system:serviceaccount:kube-system:*,"
        "system:kube-controller-manager,system:serviceaccount:ci:deployer",
    ]:
        assert expected in args, f"{expected} not in {args}"
    volumes = {v["name"]: v for v in rendered.find("Deployment")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["metrics-token"]["secret"] == {"secretName": "fledge-metrics-token", "defaultMode": 288,
                                                  "items": [{"key": "token", "path": "token"}]}
    assert volumes["loadtester-token"]["secret"]["secretName"] == "fledge-loadtester-token"
    assert rendered.find("Role")["metadata"]["namespace"] == "leases"
    secrets = [rule for rule in rendered.find("ClusterRole")["rules"] if "secrets" in rule["resources"]]
    assert secrets and all({"list", "watch"} <= set(rule["verbs"]) for rule in secrets), secrets
    policy = rendered.find("NetworkPolicy")["spec"]
    assert policy["ingress"][1]["ports"] == [{"protocol": "TCP", "port": 9091}]


def test_webhook_failure_policies_timeouts_and_namespace_selectors() -> None:
    rendered = render(values={"webhook": {
        "canaries": {"failurePolicy": "Ignore", "timeoutSeconds": 10},
        "deployments": {"failurePolicy": "Fail", "timeoutSeconds": 3},
        "namespaceSelector": {"matchLabels": {"fledge.dev/enabled": "true"},
                              "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["system"]}]},
        "excludeNamespaces": ["linkerd", "linkerd-viz"],
    }})
    mutating = by_name(rendered.find("MutatingWebhookConfiguration"))
    validating = by_name(rendered.find("ValidatingWebhookConfiguration"))
    canary_hooks = [mutating["mutate.canaries.flagger.app"], validating["validate.canaries.flagger.app"]]
    deployment_hook = validating["deployments.fledge.dev"]
    for hook in canary_hooks:
        assert (hook["failurePolicy"], hook["timeoutSeconds"]) == ("Ignore", 10)
        assert hook["namespaceSelector"] == {
            "matchLabels": {"fledge.dev/enabled": "true"},
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                 "values": ["fledge-system", "linkerd", "linkerd-viz"]},
                {"key": "tier", "operator": "NotIn", "values": ["system"]}]}
    assert (deployment_hook["failurePolicy"], deployment_hook["timeoutSeconds"]) == ("Fail", 3)
    assert deployment_hook["namespaceSelector"]["matchExpressions"][0]["values"] == [
        "fledge-system", "kube-system", "kube-node-lease", "linkerd", "linkerd-viz"]


def test_existing_secret_with_a_ca_bundle() -> None:
    bundle = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
    rendered = render(values={"certificates": {"mode": "existing-secret", "secretName": "my-tls",
                                               "existingSecret": {"caBundle": bundle}}})
    assert rendered.all("Secret") == []
    volumes = rendered.find("Deployment")["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["secret"]["secretName"] == "my-tls"
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        assert {w["clientConfig"]["caBundle"] for w in rendered.find(kind)["webhooks"]} == {bundle}


def test_cert_manager_with_an_issuer_of_yours() -> None:
    rendered = render(values={"certificates": {"mode": "cert-manager", "certManager": {
        "issuerRef": {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}}}})
    assert [o["kind"] for o in rendered.objects if o["apiVersion"].startswith("cert-manager.io")] == ["Certificate"]
    certificate = rendered.find("Certificate")
    assert certificate["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    assert rendered.find("MutatingWebhookConfiguration")["metadata"]["annotations"] == {
        "cert-manager.io/inject-ca-from": "fledge-system/fledge-webhook-tls"}


def test_client_auth_moves_the_probes_to_the_metrics_port() -> None:
    container = render(values={"clientAuth": {"enabled": True, "secretName": "apiserver-ca"}}).container()
    assert "--client-ca-file=/etc/fledge/client-ca/ca.crt" in container["args"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics", "scheme": "HTTP"}
    assert container["livenessProbe"]["httpGet"]["port"] == "metrics"


def test_no_network_policy() -> None:
    rendered = render(values={"networkPolicy": {"enabled": False}})
    assert rendered.all("NetworkPolicy") == []
    assert rendered.find("Deployment")


def test_narrowed_egress_and_metrics_scrapers() -> None:
    monitoring = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    egress = [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]
    policy = render(values={"networkPolicy": {"enabled": True, "metricsFrom": monitoring, "egress": egress}}
                    ).find("NetworkPolicy")["spec"]
    assert policy["ingress"][1]["from"] == monitoring
    assert policy["egress"][1:] == egress


def test_leader_election_off_runs_one_replica_that_never_overlaps() -> None:
    rendered = render(values={"leaderElection": {"enabled": False}, "replicaCount": 1})
    deployment = rendered.find("Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert rendered.all("PodDisruptionBudget") == []
    # `fledge serve` takes the Lease even alone, so its Role stays.
    assert rendered.find("Role")["rules"][0]["resources"] == ["leases"]


def test_a_custom_provider_release_name_and_namespace() -> None:
    rendered = render(values={"meshProvider": "kubernetes", "image": {
        "repository": "registry.example.com/fledge", "tag": "0.2.0", "pullPolicy": "Always",
        "pullSecrets": ["regcred"]}}, name="canaries", namespace="delivery")
    deployment = rendered.find("Deployment", "canaries-fledge")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.com/fledge:0.2.0"
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    args = pod["containers"][0]["args"]
    assert "--default-provider=kubernetes" in args
    # The worker's own service account may edit the -primary Deployments it owns.
    assert ("--primary-editors=system:serviceaccount:delivery:canaries-fledge,system:serviceaccount:kube-system:*,"
            "system:kube-controller-manager") in args
    hook = by_name(rendered.find("ValidatingWebhookConfiguration", "canaries-fledge"))["validate.canaries.flagger.app"]
    assert hook["clientConfig"]["service"] == {"name": "canaries-fledge", "namespace": "delivery",
                                               "path": "/validate-flagger-app-v1beta1-canary", "port": 443}
    assert hook["namespaceSelector"]["matchExpressions"][0]["values"] == ["delivery"]
    with tempfile.TemporaryDirectory() as directory:
        files = secret_files(rendered.find("Secret", "canaries-fledge-webhook-tls"), Path(directory))
        assert "DNS:canaries-fledge.delivery.svc" in openssl("x509", "-in", str(files["tls.crt"]), "-noout", "-text")
    binding = rendered.find("ClusterRoleBinding", "canaries-fledge")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "canaries-fledge", "namespace": "delivery"}]


def test_service_monitor() -> None:
    rendered = render(values={"metrics": {"port": 9090, "tokenSecret": {"name": "scrape", "key": "t"},
                                          "serviceMonitor": {"enabled": True, "interval": "15s",
                                                             "labels": {"release": "prom"}}}})
    monitor = rendered.find("ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prom"
    endpoint = monitor["spec"]["endpoints"][0]
    assert (endpoint["port"], endpoint["interval"], endpoint["bearerTokenSecret"]) == (
        "metrics", "15s", {"name": "scrape", "key": "t"})
    service = rendered.find("Service", "fledge-metrics")
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()


def test_a_flagger_style_slack_setup() -> None:
    args = render(values={"slack": {"url": "https://hooks.slack.com/services/A/B/C", "channel": "general",
                                    "user": "flagger"}, "clusterName": "prod-eu"}).args()
    assert "--slack-url=https://hooks.slack.com/services/A/B/C" in args
    assert "--slack-channel=general" in args and "--slack-user=flagger" in args and "--cluster-name=prod-eu" in args
    assert not any(a.startswith("--msteams-url") or a.startswith("--slack-token") for a in args)


# -------------------------------------------------------------------------------------------------------------
# The load tester chart


def test_loadtester_defaults_allow_only_the_tutorial_bash_line() -> None:
    args = render(LOADTESTER_CHART, name="flagger-loadtester", namespace="prod").args()
    assert args.count("--allow-bash") == 1
    # Python's re has no \p{Cc} (the control characters): spell the class out.
    pattern = re.compile(args[args.index("--allow-bash") + 1].replace(r"\p{Cc}", r"\x00-\x1f\x7f-\x9f"))
    assert pattern.fullmatch("curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token")
    assert not pattern.fullmatch("curl -sd @/etc/passwd http://podinfo-canary.prod:9898/token | grep token")
    assert not pattern.fullmatch("curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token; id")


def test_loadtester_values() -> None:
    rendered = render(LOADTESTER_CHART, {
        "fullnameOverride": "helm-tester", "allowBash": [], "allow": ["^kubectl get pods( -n [a-z-]+)?$"],
        "maxTasks": 4, "maxGates": 10, "cmd": {"timeout": "10m", "namespaceRegexp": "^prod$"}, "programs": "hey,helm",
        "tokenSecret": {"name": "lt-token", "key": "token"}, "rbac": {"gates": True, "helmTest": True},
        "networkPolicy": {"enabled": True, "allowSameNamespace": True, "kubernetesAPI": {"cidrs": ["10.0.0.1/32"]}},
    }, name="tests", namespace="prod")
    args = rendered.args("helm-tester")
    assert "--allow-bash" not in args
    assert args[args.index("--allow") + 1] == "^kubectl get pods( -n [a-z-]+)?$"
    for flag, value in [("--max-tasks", "4"), ("--max-gates", "10"), ("--timeout", "10m"),
                        ("--namespace-regexp", "^prod$"), ("--programs", "hey,helm"),
                        ("--token-file", "/var/run/secrets/fledge-loadtester/token")]:
        assert args[args.index(flag) + 1] == value
    tasks = rendered.find("Role", "helm-tester-tasks")
    assert {"pods", "pods/log", "secrets"} == {r for rule in tasks["rules"] for r in rule["resources"]}
    assert rendered.find("Service", "helm-tester")["spec"]["selector"]["app.kubernetes.io/instance"] == "tests"
    ingress = rendered.find("NetworkPolicy")["spec"]["ingress"]
    assert ingress[1] == {"from": [{"podSelector": {}}], "ports": [{"protocol": "TCP", "port": 8080}]}


def test_loadtester_without_an_api_address_leaves_the_rule_out_and_says_so() -> None:
    rendered = render(LOADTESTER_CHART, name="flagger-loadtester", namespace="prod")
    egress = rendered.find("NetworkPolicy")["spec"]["egress"]
    assert not any("ipBlock" in json.dumps(rule) for rule in egress)
    assert "has no rule for the Kubernetes API" in rendered.notes


def test_loadtester_memory_gates_need_no_role() -> None:
    rendered = render(LOADTESTER_CHART, {"memoryGates": True}, name="flagger-loadtester", namespace="prod")
    assert rendered.all("Role") == []
    assert "--memory-gates" in rendered.args()


def test_the_flux_helmrelease_example_renders() -> None:
    """manifests/examples/helmrelease.yaml: every HelmRelease names a chart here, and its values pass the schema
    and render."""
    import yaml

    documents = [d for d in yaml.safe_load_all((MANIFESTS / "examples" / "helmrelease.yaml").read_text()) if d]
    releases = [d for d in documents if d["kind"] == "HelmRelease"]
    assert [r["spec"]["releaseName"] for r in releases] == ["fledge", "flagger-loadtester", "helm-tester"]
    for release in releases:
        chart = {"fledge": CHART, "fledge-loadtester": LOADTESTER_CHART}[release["spec"]["chart"]["spec"]["chart"]]
        namespace = release["spec"].get("targetNamespace", release["metadata"]["namespace"])
        rendered = render(chart, release["spec"]["values"], name=release["spec"]["releaseName"], namespace=namespace)
        assert rendered.find("Service", release["spec"]["releaseName"])
    assert releases[0]["spec"]["install"]["crds"] == "Create"
    assert releases[0]["spec"]["upgrade"]["crds"] == "CreateReplace"
