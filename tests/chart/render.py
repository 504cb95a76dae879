"""The chart rendered by Helm's own engine (helm-python-sdk), offline, as Kubernetes objects.

`rendered(case)` renders one of the named value sets once per test session; tests look
objects up with `one(objects, kind, name)` or `of_kind(objects, kind)`.
"""

import copy
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "llamaops"
RELEASE, NAMESPACE = "llamaops", "llamaops-system"
TEAMS = ["team-a", "team-b"]
RUNBOOKS = "https://github.com/llamaops/llamaops/blob/main/docs/runbooks.md"

Obj = dict[str, Any]

# The value sets every rendering test draws on, by name.
CASES: dict[str, Obj] = {
    "defaults": {},
    "namespaced": {"watchNamespaces": TEAMS},
    "ha-cluster-wide": {"highAvailability": {"enabled": True}},
    "ha-namespaced": {"highAvailability": {"enabled": True}, "watchNamespaces": TEAMS},
    "monitoring": {"monitoring": {"enabled": True, "forceMonitors": True}},
    "monitoring-namespaced": {
        "monitoring": {"enabled": True, "forceMonitors": True},
        "watchNamespaces": TEAMS,
    },
    "monitoring-without-the-api": {"monitoring": {"enabled": True}},
}

# Kinds kubernetes-validate has no schema for: checked by hand.
CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("kopf.dev/v1", "KopfPeering"),
    ("kopf.dev/v1", "ClusterKopfPeering"),
}


@cache
def chart() -> helm.Chart:
    return helm.Chart.load(str(CHART))


def render_files(values: Obj) -> dict[str, str]:
    """Template path -> rendered text, NOTES.txt included."""
    return chart().render(copy.deepcopy(values), name=RELEASE, namespace=NAMESPACE, is_install=True)


def objects_of(files: dict[str, str]) -> list[Obj]:
    """Every non-empty YAML document of the rendered manifests (NOTES.txt left out)."""
    found: list[Obj] = []
    for path, text in sorted(files.items()):
        if path.endswith("NOTES.txt"):
            continue
        found.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return found


@cache
def _rendered(case: str) -> tuple[dict[str, str], list[Obj]]:
    files = render_files(CASES[case])
    return files, objects_of(files)


def rendered(case: str) -> list[Obj]:
    """The objects of a named value set (a fresh copy, so tests cannot spoil the cache)."""
    return copy.deepcopy(_rendered(case)[1])


def notes(case: str) -> str:
    files = _rendered(case)[0]
    return next(text for path, text in files.items() if path.endswith("NOTES.txt"))


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: list[Obj], kind: str, name: str | None = None) -> Obj:
    """The only object of this kind (and name), or a failure that lists what there is."""
    found = [o for o in of_kind(objects, kind) if name is None or o["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found: {describe(objects)}"
    return found[0]


def describe(objects: list[Obj]) -> list[str]:
    return [
        f"{o['kind']} {o['metadata'].get('namespace', '-')}/{o['metadata']['name']}"
        for o in objects
    ]


def operator_container(objects: list[Obj]) -> Obj:
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    container: Obj = next(c for c in pod["containers"] if c["name"] == "operator")
    return container


def alert_rules_file() -> Obj:
    rules: Obj = yaml.safe_load((CHART / "files" / "alerts.yaml").read_text())
    return rules


def dashboard_files() -> list[Path]:
    return sorted((CHART / "dashboards").glob("*.json"))
