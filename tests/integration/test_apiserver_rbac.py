"""With RBAC on, the local API server authenticates ServiceAccount tokens and authorizes as
Kubernetes does: kubectl and the official client see 401 and 403 with Kubernetes' words."""

from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest
import yaml

from llamaops.sim.apiserver.background import BackgroundApiServer
from tests.integration.kubectl_helpers import Kubectl

ROBOT = "system:serviceaccount:ops:robot"


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[BackgroundApiServer]:
    with BackgroundApiServer(kubeconfig=tmp_path / "admin", authorize=True) as server:
        yield server


def as_token(admin: Path, token: str, path: Path) -> Path:
    """The admin kubeconfig with the user's token swapped for `token`."""
    config = yaml.safe_load(admin.read_text())
    config["users"][0]["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return path


def test_a_service_account_may_do_what_its_role_grants_and_nothing_else(
    guarded: BackgroundApiServer, pinned_kubectl: Path, tmp_path: Path
) -> None:
    assert guarded.kubeconfig is not None
    admin = Kubectl(guarded.kubeconfig, tmp_path)
    admin("create", "namespace", "ops")
    admin("create", "serviceaccount", "robot", "-n", "ops")
    token = admin("create", "token", "robot", "-n", "ops").strip()
    robot = Kubectl(as_token(guarded.kubeconfig, token, tmp_path / "robot"), tmp_path)

    denied = robot.fails("get", "pods", "-n", "ops")
    assert (
        f'pods is forbidden: User "{ROBOT}" cannot list resource "pods" in API group "" '
        'in the namespace "ops"'
    ) in denied.err

    admin("create", "role", "pod-reader", "-n", "ops", "--verb=get,list", "--resource=pods")
    admin(
        "create", "rolebinding", "robot-reads", "-n", "ops", "--role=pod-reader",
        "--serviceaccount=ops:robot",
    )  # fmt: skip
    assert "No resources found" in robot.run("get", "pods", "-n", "ops").err
    assert "forbidden" in robot.fails("get", "pods", "-n", "default").err
    assert "cannot delete resource" in robot.fails("delete", "pod", "x", "-n", "ops").err
    assert robot("auth", "can-i", "list", "pods", "-n", "ops").strip() == "yes"

    audit = guarded.server.auth.audit if guarded.server else []
    asked = [(r.request.verb, r.request.namespace, r.allowed) for r in audit if r.user == ROBOT]
    assert ("list", "ops", False) in asked and ("list", "ops", True) in asked


def test_no_token_is_401_and_the_official_client_reads_403(
    guarded: BackgroundApiServer, tmp_path: Path
) -> None:
    assert guarded.kubeconfig is not None
    nobody = as_token(guarded.kubeconfig, "made-up", tmp_path / "nobody")
    with (
        kubernetes.config.new_client_from_config(str(nobody)) as client,
        pytest.raises(kubernetes.client.ApiException) as unknown,
    ):
        kubernetes.client.CoreV1Api(client).list_namespace()
    assert unknown.value.status == 401

    with kubernetes.config.new_client_from_config(str(guarded.kubeconfig)) as client:
        core = kubernetes.client.CoreV1Api(client)
        core.create_namespaced_service_account("default", {"metadata": {"name": "robot"}})
        token = core.create_namespaced_service_account_token(
            "robot", "default", {"spec": {"audiences": []}}
        ).status.token
    robot = as_token(guarded.kubeconfig, token, tmp_path / "robot")
    with (
        kubernetes.config.new_client_from_config(str(robot)) as client,
        pytest.raises(kubernetes.client.ApiException) as refused,
    ):
        kubernetes.client.CoreV1Api(client).list_node()
    assert refused.value.status == 403
    assert "at the cluster scope" in refused.value.body
