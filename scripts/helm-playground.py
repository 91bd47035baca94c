#!/usr/bin/env python3
"""Install, upgrade and uninstall a small chart into `fledge playground` with the real Helm v4 library.

Helm's `wait="watcher"` is kstatus: every object the chart makes must read as Current (a Deployment rolled out, a
CRD Established, a PodDisruptionBudget observed, a Service, ConfigMap, Secret, ServiceAccount, RBAC and webhook
configuration as they are).
Uninstalling sends client-go's protobuf DeleteOptions. Both must work against the embedded API server.

Usage: scripts/helm-playground.py [--fledge PATH] [--verbose]
Needs PyPI's helm-python-sdk (`python3 -m pip install helm-python-sdk`); exits 2 when it is missing, 1 when a step
fails, 0 when every step passed.
"""

from __future__ import annotations

import argparse
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

REPOSITORY = pathlib.Path(__file__).resolve().parent.parent

CHART_YAML = """\
apiVersion: v2
name: tiny
version: 0.1.0
appVersion: "1.0"
"""

VALUES_YAML = """\
replicas: 3
image: ghcr.io/stefanprodan/podinfo:6.0.0
"""

CRD_YAML = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.tiny.example.com
spec:
  group: tiny.example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""

TEMPLATES = {
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels: {app: {{ .Release.Name }}-web}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-web}
    spec:
      serviceAccountName: {{ .Release.Name }}
      containers:
      - name: web
        image: {{ .Values.image }}
        ports: [{containerPort: 9898}]
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {app: {{ .Release.Name }}-web}
  ports: [{port: 80, targetPort: 9898}]
""",
    "config.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-token
stringData: {token: not-a-secret}
""",
    "rbac.yaml": """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ .Release.Name }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .Release.Name }}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .Release.Name }}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: {{ .Release.Name }}}
subjects:
- {kind: ServiceAccount, name: {{ .Release.Name }}, namespace: {{ .Release.Namespace }}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: {{ .Release.Name }}-reader
rules:
- apiGroups: [tiny.example.com]
  resources: [widgets]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .Release.Name }}-reader
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {{ .Release.Name }}-reader}
subjects:
- {kind: ServiceAccount, name: {{ .Release.Name }}, namespace: {{ .Release.Namespace }}}
""",
    "budget.yaml": """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .Release.Name }}-web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}-web}
""",
    "webhook.yaml": """\
# Matches a group nothing writes, so it never takes part in admission here.
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: {{ .Release.Name }}-check
webhooks:
- name: check.tiny.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Ignore
  clientConfig:
    service: {name: {{ .Release.Name }}-web, namespace: {{ .Release.Namespace }}, path: /validate}
  rules:
  - apiGroups: [nothing.tiny.example.com]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [gadgets]
""",
}


def write_chart(directory: pathlib.Path) -> pathlib.Path:
    chart = directory / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "crds").mkdir()
    (chart / "Chart.yaml").write_text(CHART_YAML)
    (chart / "values.yaml").write_text(VALUES_YAML)
    (chart / "crds" / "widgets.yaml").write_text(CRD_YAML)
    for name, text in TEMPLATES.items():
        (chart / "templates" / name).write_text(text)
    return chart


class Playground:
    """`fledge playground` on a free port, with its kubeconfig in a temporary directory."""

    def __init__(self, fledge: str, directory: pathlib.Path) -> None:
        self.kubeconfig = directory / "kubeconfig"
        self.log = open(directory / "playground.log", "w+")
        self.process = subprocess.Popen(
            [
                fledge, "playground", "--listen-api", "127.0.0.1:0", "--kubeconfig-out", str(self.kubeconfig),
                "--speed", "20",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 120
        while not self.kubeconfig.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"fledge playground exited with {self.process.returncode}: {self.output()}")
            if time.monotonic() > deadline:
                raise RuntimeError("fledge playground wrote no kubeconfig within 120 s")
            time.sleep(0.1)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def step(name: str, action) -> object:
    started = time.monotonic()
    try:
        result = action()
    except Exception as error:  # noqa: BLE001 - every failure is reported the same way
        print(f"FAIL {name} ({time.monotonic() - started:.1f}s): {error}", flush=True)
        raise
    print(f"ok   {name} ({time.monotonic() - started:.1f}s)", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fledge", default=str(REPOSITORY / ".build" / "debug" / "fledge"))
    parser.add_argument("--timeout", type=int, default=60, help="seconds Helm waits for readiness")
    parser.add_argument("--verbose", action="store_true", help="print Helm's own log")
    arguments = parser.parse_args()
    try:
        import helm_python as helm
    except ImportError:
        print("SKIPPED: helm-python-sdk is not installed (python3 -m pip install helm-python-sdk)", file=sys.stderr)
        return 2
    if arguments.verbose:
        logging.basicConfig(level=logging.DEBUG)
        helm.enable_logging(logging.DEBUG)
    if not os.access(arguments.fledge, os.X_OK):
        print(f"FAIL: no fledge binary at {arguments.fledge}; build it or pass --fledge", file=sys.stderr)
        return 1

    directory = pathlib.Path(tempfile.mkdtemp(prefix="fledge-helm-"))
    playground = None
    try:
        chart_path = write_chart(directory)
        playground = step("start fledge playground", lambda: Playground(arguments.fledge, directory))
        chart = helm.Chart.load(chart_path)
        config = helm.Config(kubeconfig_path=str(playground.kubeconfig), namespace="tiny")
        timeout = arguments.timeout

        def install():
            release = config.install(
                chart, "tiny", namespace="tiny", create_namespace=True, wait="watcher", timeout=timeout
            )
            status = release.get("status")
            if status != "deployed":
                raise RuntimeError(f"release status is {status!r}, not 'deployed'")

        def upgrade():
            release = config.upgrade(
                chart, "tiny", {"image": "ghcr.io/stefanprodan/podinfo:6.0.1"}, namespace="tiny",
                wait="watcher", timeout=timeout,
            )
            if release.get("revision") != 2 or release.get("status") != "deployed":
                raise RuntimeError(f"unexpected release after upgrade: revision {release.get('revision')}, "
                                   f"status {release.get('status')}")

        def uninstall():
            config.uninstall("tiny", wait="watcher", timeout=timeout)
            remaining = [release.get("name") for release in config.list(all_states=True)]
            if "tiny" in remaining:
                raise RuntimeError(f"the release is still listed: {remaining}")

        step("helm install --wait=watcher (kstatus readiness)", install)
        step("helm upgrade --wait=watcher (a new rollout)", upgrade)
        step("helm uninstall (protobuf DeleteOptions)", uninstall)
        return 0
    except Exception as error:  # noqa: BLE001
        if playground is not None:
            print(textwrap.indent(playground.output()[-4000:], "  playground: "), file=sys.stderr)
        print(f"helm against the playground failed: {error}", file=sys.stderr)
        return 1
    finally:
        if playground is not None:
            playground.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
