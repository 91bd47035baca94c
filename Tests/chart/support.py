"""Helpers for the chart tests: rendering with the real Helm library, building the kustomize manifests,
normalising both for comparison, and a `fledge playground` to install into."""

from __future__ import annotations

import base64
import copy
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonpatch
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "fledge"
LOADTESTER_CHART = ROOT / "charts" / "fledge-loadtester"
MANIFESTS = ROOT / "manifests"

# Labels Helm charts add and kustomize manifests do not: ignored when the two are compared.
HELM_LABELS = {"helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance",
               "app.kubernetes.io/version"}


def fledge_binary() -> Path:
    """The `fledge` binary the tests run (FLEDGE_BIN, else the debug build)."""
    path = Path(os.environ.get("FLEDGE_BIN", ROOT / ".build" / "debug" / "fledge"))
    if not path.is_file():
        raise AssertionError(f"{path} does not exist: build it first with `swift build --product fledge`")
    return path


# ---------------------------------------------------------------------------------------------------------------
# Rendering


class Rendered:
    """The objects a chart renders, by (kind, namespace, name), and its NOTES."""

    def __init__(self, manifests: dict[str, str]):
        self.objects: list[dict[str, Any]] = []
        self.notes = ""
        for path, text in sorted(manifests.items()):
            if path.endswith("NOTES.txt"):
                self.notes = text
                continue
            for document in yaml.safe_load_all(text):
                if document:
                    self.objects.append(document)

    def find(self, kind: str, name: str | None = None) -> dict[str, Any]:
        matches = [o for o in self.objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
        assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}: {self.kinds()}"
        return matches[0]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def kinds(self) -> list[str]:
        return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)

    def container(self, deployment: str | None = None) -> dict[str, Any]:
        return self.find("Deployment", deployment)["spec"]["template"]["spec"]["containers"][0]

    def args(self, deployment: str | None = None) -> list[str]:
        return self.container(deployment)["args"]


def render(chart: Path = CHART, values: dict[str, Any] | None = None, *, name: str = "fledge",
           namespace: str = "fledge-system") -> Rendered:
    """Renders `chart` offline as `helm template` does (lookup finds nothing), after the schema check."""
    with helm.Chart.load(str(chart)) as loaded:
        loaded.validate_schema(values or {})
        return Rendered(loaded.render(values or {}, name=name, namespace=namespace, is_install=True))


# ---------------------------------------------------------------------------------------------------------------
# kustomize


def _load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as far as the manifests' patches need it: maps merge, everything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return copy.deepcopy(patch)


def kustomize_subset(directory: Path, components: list[Path] = ()) -> list[dict[str, Any]]:
    """Builds a kustomization with the features manifests/ uses: resources (files and directories), patches
    (strategic-merge files, or JSON 6902 files with a target) and components. Cross-checked against
    `kubectl kustomize` where kubectl is installed."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        objects += kustomize_subset(path) if path.is_dir() else _load_yaml_documents(path)
    patch_sets = [(directory, kustomization.get("patches", []))]
    for component in list(kustomization.get("components", [])) + [str(c) for c in components]:
        component_dir = (directory / component).resolve()
        component_file = yaml.safe_load((component_dir / "kustomization.yaml").read_text())
        patch_sets.append((component_dir, component_file.get("patches", [])))
    for base_dir, patches in patch_sets:
        for patch in patches:
            documents = yaml.safe_load_all((base_dir / patch["path"]).read_text())
            if "target" in patch:
                target = patch["target"]
                operations = next(d for d in documents if d)
                for index, obj in enumerate(objects):
                    if obj["kind"] == target["kind"] and obj["metadata"]["name"] == target["name"]:
                        objects[index] = jsonpatch.apply_patch(obj, operations)
                continue
            for document in documents:
                if not document:
                    continue
                for index, obj in enumerate(objects):
                    if obj["kind"] == document["kind"] and obj["metadata"]["name"] == document["metadata"]["name"]:
                        objects[index] = _merge(obj, document)
    return objects


def kubectl_kustomize(directory: Path, components: list[Path] = ()) -> list[dict[str, Any]] | None:
    """`kubectl kustomize` of the directory (with components through a temporary overlay), or None without
    kubectl."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    target = directory
    with tempfile.TemporaryDirectory() as scratch:
        if components:
            overlay = Path(scratch) / "overlay"
            overlay.mkdir()
            shutil.copytree(MANIFESTS, overlay / "manifests")
            relative = directory.relative_to(MANIFESTS)
            (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [str(Path("manifests") / relative)],
                "components": [str(Path("manifests") / c.relative_to(MANIFESTS)) for c in components],
            }))
            target = overlay
        output = subprocess.run([kubectl, "kustomize", str(target)], check=True, capture_output=True, text=True)
    return [d for d in yaml.safe_load_all(output.stdout) if d]


def kustomize(directory: Path, components: list[Path] = ()) -> list[dict[str, Any]]:
    built = kustomize_subset(directory, components)
    real = kubectl_kustomize(directory, components)
    if real is not None:
        assert index(real) == index(built), "the kustomize subset differs from kubectl kustomize"
    return built


# ---------------------------------------------------------------------------------------------------------------
# Normalisation


def _strip_helm_labels(value: Any) -> Any:
    """Drops Helm's labels from every label map and label selector."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            plain_selector = key == "selector" and isinstance(item, dict) and not (
                {"matchLabels", "matchExpressions"} & set(item))
            if (key in ("labels", "matchLabels") or plain_selector) and isinstance(item, dict):
                item = {k: v for k, v in item.items() if k not in HELM_LABELS}
            result[key] = _strip_helm_labels(item)
        return result
    if isinstance(value, list):
        return [_strip_helm_labels(item) for item in value]
    return value


def normalise(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the comparison sees it: no Helm labels, no cert material (caBundle), no empty maps."""
    obj = _strip_helm_labels(copy.deepcopy(obj))
    for webhook in obj.get("webhooks", []) or []:
        webhook.get("clientConfig", {}).pop("caBundle", None)
    metadata = obj["metadata"]
    for key in ("labels", "annotations"):
        if not metadata.get(key):
            metadata.pop(key, None)
    return obj


def index(objects: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): normalise(o) for o in objects}


def differences(left: dict[str, Any], right: dict[str, Any], path: str = "") -> list[str]:
    """Where two objects differ, as paths with both values, for readable failures."""
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right)):
            if key not in left:
                found.append(f"{path}.{key}: only in the chart: {json.dumps(right[key])[:200]}")
            elif key not in right:
                found.append(f"{path}.{key}: only in kustomize: {json.dumps(left[key])[:200]}")
            else:
                found += differences(left[key], right[key], f"{path}.{key}")
        return found
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        found = []
        for number, (a, b) in enumerate(zip(left, right)):
            found += differences(a, b, f"{path}[{number}]")
        return found
    return [] if left == right else [f"{path}: kustomize {json.dumps(left)[:200]} != chart {json.dumps(right)[:200]}"]


# ---------------------------------------------------------------------------------------------------------------
# Certificates (openssl)


def openssl(*arguments: str, stdin: str | None = None) -> str:
    result = subprocess.run(["openssl", *arguments], input=stdin, capture_output=True, text=True)
    assert result.returncode == 0, f"openssl {' '.join(arguments)}: {result.stderr}"
    return result.stdout


def secret_files(secret: dict[str, Any], directory: Path) -> dict[str, Path]:
    """Writes a TLS Secret's data into `directory`, as the kubelet mounts it."""
    files = {}
    for key, value in secret["data"].items():
        path = directory / key
        path.write_bytes(base64.b64decode(value))
        files[key] = path
    return files


# ---------------------------------------------------------------------------------------------------------------
# A running `fledge playground`


class Playground:
    """`fledge playground` on free ports, with a small Kubernetes API client bound to its kubeconfig."""

    def __init__(self, speed: int = 20):
        self.directory = Path(tempfile.mkdtemp(prefix="fledge-chart-"))
        self.kubeconfig = self.directory / "kubeconfig"
        self.log_path = self.directory / "playground.log"
        self.process = subprocess.Popen(
            [str(fledge_binary()), "playground", "--listen-api", "127.0.0.1:0", "--kubeconfig-out",
             str(self.kubeconfig), "--speed", str(speed), "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=self.log_path.open("wb"), text=True,
        )
        # The playground prints its banner once Fledge is installed; wait for that line (the bound is generous
        # and only matters when the playground is broken).
        ready = threading.Event()
        banner: list[str] = []

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                banner.append(line)
                if line.startswith("kubeconfig:"):
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(120) or self.process.poll() is not None:
            self.stop()
            raise AssertionError(f"the playground did not start: {''.join(banner)}\n{self.log()}")
        config = yaml.safe_load(self.kubeconfig.read_text())
        self.server = config["clusters"][0]["cluster"]["server"]
        self.token = config["users"][0]["user"]["token"]
        self.context = ssl.create_default_context(
            cadata=base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"]).decode())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=60) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def get(self, path: str) -> dict[str, Any] | None:
        status, body = self.request("GET", path)
        if status == 404:
            return None
        assert status == 200, f"GET {path}: {status} {body}"
        return body

    def create(self, obj: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return self.request("POST", collection_path(obj), obj)

    def watch_until(self, path: str, predicate, timeout: float = 120) -> dict[str, Any]:
        """Watches one object until `predicate` holds; returns it. The timeout only matters when broken."""
        name = path.rsplit("/", 1)[1]
        collection = path.rsplit("/", 1)[0]
        current = self.get(path)
        if current is not None and predicate(current):
            return current
        version = (current or {}).get("metadata", {}).get("resourceVersion", "")
        url = (f"{self.server}{collection}?watch=true&fieldSelector=metadata.name%3D{name}"
               f"&resourceVersion={version}&timeoutSeconds={int(timeout)}")
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(request, context=self.context, timeout=timeout + 10) as response:
            for line in response:
                event = json.loads(line)
                if event.get("type") in ("ADDED", "MODIFIED") and predicate(event["object"]):
                    return event["object"]
        final = self.get(path)
        raise AssertionError(f"{path} never met the condition; last seen: {json.dumps(final)[:2000]}")


PLURALS = {"Namespace": "namespaces", "Deployment": "deployments", "Canary": "canaries", "Service": "services"}


def collection_path(obj: dict[str, Any]) -> str:
    group_version = obj["apiVersion"]
    prefix = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
    namespace = obj["metadata"].get("namespace")
    plural = PLURALS[obj["kind"]]
    return f"{prefix}/namespaces/{namespace}/{plural}" if namespace else f"{prefix}/{plural}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
