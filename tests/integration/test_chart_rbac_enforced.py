"""The chart's RBAC, enforced. The local API server checks tokens and RBAC as Kubernetes
does; the chart's ServiceAccount, ClusterRole, binding, Service and Deployment are applied;
the operator runs with the args the chart's Deployment gives, logged in with the
ServiceAccount's token. Every scenario (create, scale, autoscale, rollout, halt, delete)
works with no request denied, and every verb the chart grants is used by one of them.

(The one mapping from a pod to a process is chart_helpers.py's: ports.)"""

from pathlib import Path
from typing import Any

import pytest
import yaml

from llamaops.sim.apiserver.rbac import Attributes
from tests.chart.render import objects_of, render_files
from tests.integration.chart_helpers import (
    CLUSTER,
    account_token,
    container_args,
    install,
    operator_container,
    requests_of,
    scenarios,
)
from tests.integration.operator_harness import LLAMAOPS, OperatorWorld, operator_world

ROLES = ("ClusterRole", "Role")
Grant = tuple[str, str, str]  # (verb, API group, resource or resource/subresource)


@pytest.mark.parametrize(
    "values",
    [{}, {"watchNamespaces": ["default"]}],
    ids=["cluster-wide", "namespaced"],
)
def test_the_operator_under_the_charts_rbac_is_never_denied_and_uses_every_grant(
    tmp_path: Path, values: dict[str, Any]
) -> None:
    objects = objects_of(render_files(values))
    with operator_world(tmp_path, CLUSTER, authorize=True, start=False) as world:
        install(world, objects, tmp_path)
        world.start_operator(operator_command(world, tmp_path))

        scenarios(world)

        asked = requests_of(world)
        denied = [r.request for r in asked if not r.allowed]
        assert denied == [], f"requests the chart's RBAC denied: {denied}"
        used = {_grant(r.request) for r in asked}
        granted = set().union(*(grants(r) for r in objects if r["kind"] in ROLES))
        assert granted - used == set(), f"granted, never used: {sorted(granted - used)}"
        assert any(g[2] == "llamadeployments/scale" for g in used), "the autoscaler scaled"


def operator_command(world: OperatorWorld, tmp_path: Path) -> list[str]:
    """The chart's container args, logged in with the ServiceAccount's token."""
    config = yaml.safe_load(world.cluster.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": account_token(world)}
    kubeconfig = tmp_path / "operator-kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    args = container_args(operator_container(world))
    return [str(LLAMAOPS), *args, "--kubeconfig", str(kubeconfig)]


def grants(role: dict[str, Any]) -> set[Grant]:
    return {
        (verb, group, resource)
        for rule in role["rules"]
        for verb in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }


def _grant(request: Attributes) -> Grant:
    resource = request.resource + (f"/{request.subresource}" if request.subresource else "")
    return request.verb, request.group, resource
