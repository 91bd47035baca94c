"""The chart installed, upgraded, rolled back and uninstalled with the real Helm library into a running
`fledge playground`, and the tutorial's Canary admitted through the chart's webhook configurations.

What the embedded cluster can and cannot show: it has no kubelet, so the chart's Deployment never runs a pod.
The playground serves Fledge's admission gate in-process as the Service fledge.fledge-system (with a certificate
of its own) and runs the progression worker in-process. So after removing the playground's own webhook
configurations and CRDs, the chart's CRDs, RBAC and webhook configurations are the ones the API server uses, and
the in-process gate stands in for the chart's pods. The chart's self-signed certificate is therefore checked
against a real `fledge serve` in test_chart.py instead.
"""

from __future__ import annotations

import base64
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from support import CHART, MANIFESTS, Playground

NAMESPACE = "fledge-system"
WEBHOOKS = "/apis/admissionregistration.k8s.io/v1/{kind}webhookconfigurations/fledge"
CRDS = ["canaries.flagger.app", "metrictemplates.flagger.app", "alertproviders.flagger.app",
        "trafficsplits.split.smi-spec.io"]
# The embedded cluster has no networking.k8s.io API, so the NetworkPolicy is left out there.
BASE_VALUES = {"networkPolicy": {"enabled": False}}
CANARY_PATH = "/apis/flagger.app/v1beta1/namespaces/prod/canaries"


@pytest.fixture(scope="module")
def playground():
    running = Playground(speed=20)
    yield running
    running.stop()


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def ca_bundles(playground: Playground) -> set[str]:
    bundles = set()
    for kind in ("mutating", "validating"):
        configuration = playground.get(WEBHOOKS.format(kind=kind))
        assert configuration is not None, f"no {kind} webhook configuration"
        bundles |= {w["clientConfig"].get("caBundle", "") for w in configuration["webhooks"]}
    return bundles


def test_helm_installs_upgrades_rolls_back_and_uninstalls_the_chart(playground: Playground) -> None:
    # The playground installs its own webhook configurations and CRDs; remove them, so that what the API server
    # uses afterwards is what the chart installed.
    playground_ca = playground.get(WEBHOOKS.format(kind="validating"))["webhooks"][0]["clientConfig"]["caBundle"]
    for kind in ("mutating", "validating"):
        assert playground.request("DELETE", WEBHOOKS.format(kind=kind))[0] == 200
    for crd in CRDS:
        assert playground.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}")[0] == 200

    config = helm.Config(kubeconfig_path=str(playground.kubeconfig), namespace=NAMESPACE)

    # 1. Install with the defaults: a self-signed certificate made by the chart.
    # wait="watcher" is Helm's kstatus wait: every object must read Current (CRDs Established, the Deployment
    # rolled out by the playground's simulated controller, the PDB observed).
    installed = config.install(str(CHART), "fledge", BASE_VALUES, namespace=NAMESPACE, timeout=120, wait="watcher")
    assert installed["revision"] == 1 and installed["status"] == "deployed", installed
    for crd in CRDS:
        assert playground.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}"), crd
    for path in ["/apis/rbac.authorization.k8s.io/v1/clusterroles/fledge",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fledge",
                 f"/apis/rbac.authorization.k8s.io/v1/namespaces/{NAMESPACE}/roles/fledge-leader-election",
                 f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/fledge",
                 f"/api/v1/namespaces/{NAMESPACE}/services/fledge",
                 f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/fledge",
                 f"/apis/policy/v1/namespaces/{NAMESPACE}/poddisruptionbudgets/fledge"]:
        assert playground.get(path) is not None, f"{path} was not created"
    secret = playground.get(f"/api/v1/namespaces/{NAMESPACE}/secrets/fledge-webhook-tls")
    chart_ca = secret["data"]["ca.crt"]
    assert ca_bundles(playground) == {chart_ca}

    # The chart's webhooks are in the admission chain: the playground's gate does not serve the chart's
    # certificate (no pod mounts the Secret here), so the API server refuses the Canary at the TLS handshake.
    canary = documents(MANIFESTS / "examples" / "canary.yaml")[0]
    for obj in documents(MANIFESTS / "examples" / "podinfo.yaml"):
        status, body = playground.create(obj)
        assert status in (201, 409), body
    status, body = playground.create(canary)
    assert status >= 400 and 'failed calling webhook "mutate.canaries.flagger.app"' in body.get("message", ""), body

    # 2. Upgrade: lookup keeps the certificate, so the CA under running pods does not change.
    upgraded = config.upgrade(str(CHART), "fledge", {**BASE_VALUES, "replicaCount": 3}, namespace=NAMESPACE,
                              timeout=120, wait="watcher")
    assert upgraded["revision"] == 2
    assert playground.get(f"/api/v1/namespaces/{NAMESPACE}/secrets/fledge-webhook-tls")["data"] == secret["data"]
    assert ca_bundles(playground) == {chart_ca}
    assert playground.get(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/fledge")["spec"]["replicas"] == 3

    # 3. Upgrade to an existing Secret whose CA is the one the in-process gate serves: the tutorial's Canary is
    # now admitted through the chart's webhooks, defaulted by the mutating one, and initialised by the worker.
    config.upgrade(str(CHART), "fledge", {**BASE_VALUES, "certificates": {
        "mode": "existing-secret", "secretName": "playground-webhook-tls",
        "existingSecret": {"caBundle": playground_ca}}}, namespace=NAMESPACE, timeout=120, wait="watcher")
    assert ca_bundles(playground) == {playground_ca}
    assert playground.get(f"/api/v1/namespaces/{NAMESPACE}/secrets/fledge-webhook-tls") is None
    status, body = playground.create(canary)
    assert status == 201, body
    assert body["spec"]["progressDeadlineSeconds"] == 600, "the mutating webhook did not default the Canary"
    initialised = playground.watch_until(f"{CANARY_PATH}/podinfo",
                                         lambda c: c.get("status", {}).get("phase") == "Initialized")
    assert initialised["status"]["phase"] == "Initialized"
    assert playground.get("/apis/apps/v1/namespaces/prod/deployments/podinfo-primary") is not None
    invalid = documents(MANIFESTS / "examples" / "invalid-canary.yaml")[0]
    status, body = playground.create(invalid)
    assert status == 403 and 'admission webhook "mutate.canaries.flagger.app" denied the request' in body["message"]
    assert "spec.analysis.stepWeight" in body["message"]

    # 4. Roll back to revision 2: its Secret and caBundle come back as they were.
    config.rollback("fledge", version=2, timeout=120)
    assert config.status("fledge")["revision"] == 4
    assert playground.get(f"/api/v1/namespaces/{NAMESPACE}/secrets/fledge-webhook-tls")["data"] == secret["data"]
    assert ca_bundles(playground) == {chart_ca}
    assert [r["revision"] for r in config.history("fledge")] == [1, 2, 3, 4]

    # 5. Uninstall: everything the chart made goes, but the CRDs (Helm never deletes crds/, which would delete
    # every Canary); with no webhook left, nothing refuses the invalid Canary any more.
    config.uninstall("fledge", timeout=120)
    assert config.list(all_states=True) == []
    for kind in ("mutating", "validating"):
        assert playground.get(WEBHOOKS.format(kind=kind)) is None
    for path in ["/apis/rbac.authorization.k8s.io/v1/clusterroles/fledge",
                 "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/fledge",
                 f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/fledge",
                 f"/api/v1/namespaces/{NAMESPACE}/secrets/fledge-webhook-tls"]:
        assert playground.get(path) is None, f"{path} is still there"
    assert playground.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CRDS[0]}") is not None
    assert playground.get(f"{CANARY_PATH}/podinfo") is not None
    status, body = playground.create(invalid)
    assert "admission webhook" not in body.get("message", ""), body


def test_helm_installs_and_uninstalls_the_load_tester_chart(playground: Playground) -> None:
    from support import LOADTESTER_CHART

    playground.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
    config = helm.Config(kubeconfig_path=str(playground.kubeconfig), namespace="prod")
    installed = config.install(str(LOADTESTER_CHART), "flagger-loadtester", BASE_VALUES, namespace="prod",
                               timeout=120, wait="watcher")
    assert installed["status"] == "deployed"
    deployment = playground.get("/apis/apps/v1/namespaces/prod/deployments/flagger-loadtester")
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert playground.get("/api/v1/namespaces/prod/services/flagger-loadtester")["spec"]["ports"][0]["port"] == 80
    role = playground.get("/apis/rbac.authorization.k8s.io/v1/namespaces/prod/roles/flagger-loadtester-gates")
    assert role["rules"][0]["resourceNames"] == ["fledge-loadtester-gates"]
    config.uninstall("flagger-loadtester", timeout=120)
    assert playground.get("/apis/apps/v1/namespaces/prod/deployments/flagger-loadtester") is None
    assert playground.get("/apis/rbac.authorization.k8s.io/v1/namespaces/prod/roles/flagger-loadtester-gates") is None
