"""Fixtures that start the local cluster's API emulator in this process."""

from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml

from llamaops.api.crd import custom_resource_definition
from llamaops.sim.apiserver.background import BackgroundApiServer


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
