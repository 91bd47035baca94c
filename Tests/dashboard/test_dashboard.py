"""The dashboard in a real browser (headless Chromium over WebDriver) against a playground release.

Starts the built `fledge playground` and `fledge dashboard --kubeconfig <the playground's>`, applies the tutorial's
podinfo and Canary with kubectl, releases new revisions and checks in the page that the list shows the Canary, that
the chart appears and gains points as the release advances, that Promote, Abort and Retry act (and that a refused
action is shown), and that an RBAC refusal (403 from the API server) is shown as such. The playground authorises
every user, so the refusal comes from a read-only front of the API server this test runs: it passes reads and
watches through and answers every write 403 with the Status kube-apiserver sends a user bound to the `view` role.

Needs: chromium and chromium-driver (Debian), selenium (PyPI), kubectl, and a built fledge (FLEDGE_BIN, else
.build/debug/fledge). Writes docs/images/dashboard.png (a release in progress).
"""

import base64
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEDGE = os.environ.get("FLEDGE_BIN", os.path.join(ROOT, ".build", "debug", "fledge"))
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOT = os.environ.get("DASHBOARD_SCREENSHOT", os.path.join(ROOT, "docs", "images", "dashboard.png"))
# Upper bounds that matter only when something is broken; the release itself takes seconds at --speed 10.
PATIENCE = 120


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=PATIENCE):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("gave up waiting for " + what)
        time.sleep(0.2)


class ReadOnlyFront(http.server.ThreadingHTTPServer):
    """An HTTP front of the playground's API server for a user who may read but not write (RBAC `view`)."""

    daemon_threads = True

    def __init__(self, upstream_port, ca_pem):
        self.upstream_port = upstream_port
        self.context = ssl.create_default_context(cadata=ca_pem)
        self.context.check_hostname = False
        super().__init__(("127.0.0.1", 0), ReadOnlyHandler)


class ReadOnlyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def refuse(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        parts = self.path.split("?")[0].strip("/").split("/")
        if self.command == "POST":
            parts.append("")  # a create names a collection, not an object
        resource = parts[-2] if len(parts) >= 2 else "objects"
        group = parts[1] if parts[0] == "apis" else ""
        at = parts.index("namespaces") + 1 if "namespaces" in parts else len(parts)
        namespace = parts[at] if at < len(parts) - 1 else ""
        verb = {"PATCH": "patch", "PUT": "update", "POST": "create", "DELETE": "delete"}.get(self.command, "write")
        status = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Forbidden", "code": 403,
            "message": f'{resource}.{group} "{parts[-1]}" is forbidden: User "viewer" cannot {verb} resource '
            f'"{resource}" in API group "{group}" in the namespace "{namespace}"',
            "details": {"name": parts[-1], "group": group, "kind": resource},
        }
        body = json.dumps(status).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_PATCH = do_PUT = do_POST = do_DELETE = refuse

    def do_GET(self):
        upstream = http.client.HTTPSConnection("127.0.0.1", self.server.upstream_port, context=self.server.context)
        upstream.request("GET", self.path, headers={"Accept": self.headers.get("Accept", "application/json")})
        answer = upstream.getresponse()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type", "application/json"))
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            while True:
                chunk = answer.read1(65536)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            upstream.close()


@pytest.fixture(scope="module")
def cluster():
    directory = tempfile.mkdtemp(prefix="fledge-dashboard-test-")
    kubeconfig = os.path.join(directory, "kubeconfig")
    api_port = free_port()
    playground = subprocess.Popen(
        [FLEDGE, "playground", "--listen-api", f"127.0.0.1:{api_port}", "--kubeconfig-out", kubeconfig,
         "--speed", "10"],
        stdout=open(os.path.join(directory, "playground.out"), "w"),
        stderr=open(os.path.join(directory, "playground.log"), "w"),
    )
    env = dict(os.environ, KUBECONFIG=kubeconfig, HOME=directory)

    def kubectl(*args, check=True):
        done = subprocess.run([KUBECTL, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr}")
        return done.stdout

    try:
        wait_for("the playground's kubeconfig", lambda: os.path.exists(kubeconfig))
        # The simulated mesh answers Prometheus' instant queries: the dashboard reads passed checks' values there.
        mesh = wait_for("the mesh's address", lambda: re.search(
            r"simulated Linkerd mesh: (http://127\.0\.0\.1:\d+)/metrics",
            open(os.path.join(directory, "playground.out")).read()))
        wait_for("the API server", lambda: subprocess.run([KUBECTL, "get", "ns"], env=env, capture_output=True).returncode == 0)
        kubectl("create", "namespace", "prod")
        kubectl("apply", "-f", "manifests/examples/podinfo.yaml", "-f", "manifests/examples/canary.yaml")
        yield {"kubeconfig": kubeconfig, "kubectl": kubectl, "directory": directory, "api_port": api_port,
               "prometheus": mesh.group(1)}
    finally:
        playground.terminate()
        try:
            playground.wait(timeout=30)
        except subprocess.TimeoutExpired:
            playground.kill()


def start_dashboard(kubeconfig, directory, name, extra=()):
    port = free_port()
    process = subprocess.Popen(
        [FLEDGE, "dashboard", "--kubeconfig", kubeconfig, "--listen", f"127.0.0.1:{port}", *extra],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(directory, name + ".log"), "w"),
    )
    url = f"http://127.0.0.1:{port}/"

    def healthy():
        try:
            return urllib.request.urlopen(url + "healthz", timeout=2).status == 200
        except OSError:
            return False

    wait_for("the dashboard to listen", healthy)
    return process, url


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1900"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def patient(driver):
    """A wait that reads again when the page re-rendered what it was reading (a live update)."""
    return WebDriverWait(driver, PATIENCE, ignored_exceptions=[StaleElementReferenceException])


def phase_in_list(driver, key):
    cells = driver.find_elements(By.CSS_SELECTOR, f"tr[data-canary='{key}'] td.phase")
    try:
        return cells[0].text if cells else None
    except StaleElementReferenceException:
        return None  # the list was redrawn between finding the cell and reading it


def current_points(driver):
    return len(driver.find_elements(By.CSS_SELECTOR, "article.release[data-outcome='in-progress'] svg.weight-chart g.point"))


def click_action(driver, action):
    driver.find_element(By.CSS_SELECTOR, f".actions button[data-action='{action}']").click()
    patient(driver).until(lambda d: d.find_element(By.ID, "action-result").is_displayed()
                                          and d.find_element(By.ID, "action-result").get_attribute("data-status"))
    result = driver.find_element(By.ID, "action-result")
    status = result.get_attribute("data-status")
    text = result.text
    # Clear the marker so the next click waits for its own answer.
    driver.execute_script("arguments[0].removeAttribute('data-status'); arguments[0].hidden = true;", result)
    return int(status), text


def test_release_in_the_browser(cluster, browser):
    kubectl = cluster["kubectl"]
    metrics = ("--metrics-server", cluster["prometheus"])
    dashboard, url = start_dashboard(cluster["kubeconfig"], cluster["directory"], "dashboard", metrics)
    try:
        driver = browser
        driver.get(url)
        wait = patient(driver)
        # The list shows the Canary, live: Initialized once the worker has set it up.
        wait.until(lambda d: phase_in_list(d, "prod/podinfo") == "Initialized")
        assert driver.find_element(By.ID, "connection").text == "live"
        driver.find_element(By.CSS_SELECTOR, "tr[data-canary='prod/podinfo'] button.name").click()
        wait.until(lambda d: d.find_element(By.ID, "detail-title").text == "prod/podinfo")

        # Release 3.1.1: a chart appears and gains points as the weight steps up.
        kubectl("-n", "prod", "set", "image", "deployment/podinfo", "podinfod=ghcr.io/stefanprodan/podinfo:3.1.1")
        wait.until(lambda d: current_points(d) >= 3)
        first = current_points(driver)
        wait.until(lambda d: current_points(d) >= first + 3)
        label = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, "article.release[data-outcome='in-progress'] svg.weight-chart").get_attribute("aria-label"))
        assert "Canary traffic weight per step" in label
        # Each passed check's measured value, read from the Prometheus API, is plotted against its threshold.
        rate = "article.release[data-outcome='in-progress'] svg.metric-chart[data-metric='request-success-rate']"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, rate + " g.point"))
        assert "passed" in wait.until(lambda d: d.find_element(By.CSS_SELECTOR, rate).get_attribute("aria-label"))
        assert phase_in_list(driver, "prod/podinfo") == "Progressing"

        # Promote now: the worker promotes before the maximum weight.
        status, text = click_action(driver, "promote")
        assert status == 200, text
        assert "promote requested for canary prod/podinfo" in text
        wait.until(lambda d: phase_in_list(d, "prod/podinfo") == "Succeeded")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "article.release[data-outcome='promoted']"))
        steps = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "article.release[data-outcome='promoted'] ol.steps").text)
        assert "Copying podinfo.prod template spec to podinfo-primary.prod" in steps
        assert "Promotion completed! Scaling down podinfo.prod" in steps
        assert "canary weight 50" not in steps, "promote did not cut the analysis short"

        # Release 3.1.2 and abort it: rolled back, and the page says why.
        kubectl("-n", "prod", "set", "image", "deployment/podinfo", "podinfod=ghcr.io/stefanprodan/podinfo:3.1.2")
        wait.until(lambda d: phase_in_list(d, "prod/podinfo") == "Progressing")
        status, text = click_action(driver, "abort")
        assert status == 200, text
        wait.until(lambda d: phase_in_list(d, "prod/podinfo") == "Failed")
        wait.until(lambda d: "aborted by fledge abort" in d.find_element(By.ID, "releases").text)

        # Promote of a Failed release is refused, with what to do instead.
        status, text = click_action(driver, "promote")
        assert status == 409, text
        assert "cannot be promoted" in text and "fledge retry podinfo -n prod" in text
        assert "refused" in driver.find_element(By.ID, "action-result").get_attribute("class")

        # Retry runs the failed revision again.
        status, text = click_action(driver, "retry")
        assert status == 200, text
        wait.until(lambda d: phase_in_list(d, "prod/podinfo") == "Progressing")
        wait.until(lambda d: current_points(d) >= 6)
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        driver.save_screenshot(SCREENSHOT)

        # A restarted dashboard shows the same history: it comes from the cluster.
        before = driver.find_element(By.ID, "releases").text.count("Rolling back podinfo.prod aborted by fledge abort")
        dashboard.terminate()
        dashboard.wait(timeout=30)
        dashboard, url = start_dashboard(cluster["kubeconfig"], cluster["directory"], "dashboard-restarted", metrics)
        driver.get(url + "#prod%2Fpodinfo")
        wait.until(lambda d: "aborted by fledge abort" in d.find_element(By.ID, "releases").text)
        assert driver.find_element(By.ID, "releases").text.count("Rolling back podinfo.prod aborted by fledge abort") == before
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)


def test_rbac_refusal_is_shown(cluster, browser):
    with open(cluster["kubeconfig"]) as f:
        text = f.read()
    ca = base64.b64decode(text.split("certificate-authority-data:")[1].split()[0]).decode()
    front = ReadOnlyFront(cluster["api_port"], ca)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    viewer = os.path.join(cluster["directory"], "viewer.kubeconfig")
    with open(viewer, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: playground
  cluster:
    server: http://127.0.0.1:{front.server_address[1]}
users:
- name: viewer
  user:
    token: viewer
contexts:
- name: viewer
  context:
    cluster: playground
    user: viewer
    namespace: prod
current-context: viewer
""")
    dashboard, url = start_dashboard(viewer, cluster["directory"], "dashboard-viewer")
    try:
        driver = browser
        driver.get(url + "#prod%2Fpodinfo")
        wait = patient(driver)
        wait.until(lambda d: phase_in_list(d, "prod/podinfo") is not None)
        wait.until(lambda d: d.find_element(By.ID, "detail-title").text == "prod/podinfo")
        phase = phase_in_list(driver, "prod/podinfo")
        action = "retry" if phase == "Failed" else "abort" if phase in ("Progressing", "Waiting", "WaitingPromotion") else None
        if action is None:
            # Nothing to steer: start a release so an action is applicable, then try it as the viewer.
            cluster["kubectl"]("-n", "prod", "set", "image", "deployment/podinfo", "podinfod=ghcr.io/stefanprodan/podinfo:3.1.4")
            wait.until(lambda d: phase_in_list(d, "prod/podinfo") == "Progressing")
            action = "abort"
        status, text = click_action(driver, action)
        assert status == 403, text
        assert text.startswith("Forbidden (403)"), text
        assert "RBAC" in text and 'User "viewer" cannot patch resource "canaries"' in text
        assert "refused" in driver.find_element(By.ID, "action-result").get_attribute("class")
        annotations = cluster["kubectl"]("-n", "prod", "get", "canary", "podinfo", "-o", "jsonpath={.metadata.annotations}")
        assert "fledge.dev/action" not in annotations
    finally:
        dashboard.terminate()
        dashboard.wait(timeout=30)
        front.shutdown()
