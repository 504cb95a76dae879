"""The operator end to end: `kubectl apply` of a LlamaDeployment becomes sized, ready,
served vLLM replicas on the local cluster, with status a user can read."""

import asyncio
import json
from pathlib import Path

import yaml

from llamaops.sim.traffic import shapes
from llamaops.sim.traffic.lengths import Fixed
from llamaops.sim.traffic.plan import plan_requests
from llamaops.sim.traffic.run import run_traffic
from llamaops.sim.traffic.summary import summarize
from tests.integration.cluster_fixture import REPO
from tests.integration.operator_harness import OperatorWorld, operator_world

LLAMA_70B = str(REPO / "manifests/llama3-70b.yaml")


def engine_args(pod: dict) -> list[str]:  # type: ignore[type-arg]
    container = pod["spec"]["containers"][0]
    return [*container.get("command", []), *container.get("args", [])]


def ready(pod: dict) -> bool:  # type: ignore[type-arg]
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def send_traffic(world: OperatorWorld, name: str, seconds: float = 3.0) -> dict:  # type: ignore[type-arg]
    service = world.cluster.get("services", "default", name) or {}
    url = service["metadata"]["annotations"]["sim.llamaops.io/proxy-url"]
    plan = plan_requests(shapes.constant(4, seconds), Fixed(32), Fixed(16))
    records = asyncio.run(run_traffic(url, plan, model=_served_name(world, name), timeout=30))
    return summarize(records).to_dict()


def _served_name(world: OperatorWorld, name: str) -> str:
    return str((world.llama(name) or {})["spec"]["model"]["name"])


def test_applying_the_70b_manifest_gives_two_ready_tp4_replicas_that_serve(
    tmp_path: Path,
) -> None:
    with operator_world(tmp_path) as world:
        world.kubectl("apply", "-f", LLAMA_70B)

        world.wait_until(
            lambda: world.ready_replicas("llama3-70b") == 2,
            60,
            "2 replicas of llama3-70b are ready",
        )
        pods = world.replica_pods("llama3-70b")
        assert len(pods) == 2
        for pod in pods:
            args = engine_args(pod)
            assert args[args.index("--tensor-parallel-size") + 1] == "4"
            assert pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "4"
            assert pod["spec"]["nodeName"].startswith("h100-")
            assert ready(pod)
        endpoints = world.cluster.get("endpoints", "default", "llama3-70b") or {}
        addresses = {a["ip"] for s in endpoints.get("subsets", []) for a in s.get("addresses", [])}
        assert addresses == {p["status"]["podIP"] for p in pods}

        table = world.kubectl("get", "llama", "llama3-70b").stdout.splitlines()
        header, row = table[0].split(), table[1].split()
        assert dict(zip(header, row, strict=False))["TP"] == "4"
        assert dict(zip(header, row, strict=False))["READY"] == "2"
        available = world.condition("llama3-70b", "Available")
        assert available is not None and available["status"] == "True"

        summary = send_traffic(world, "llama3-70b")
        assert summary["failed"] == 0 and summary["ok"] > 0, summary
        assert set(summary["pods"]) <= {p["metadata"]["name"] for p in pods}


def test_too_few_gpus_is_reported_with_numbers_without_churn_and_a_new_node_converges(
    tmp_path: Path,
) -> None:
    manifest = json.loads(json.dumps(_manifest()))
    manifest["spec"]["replicas"] = 5  # 5 × 4 GPUs; 2 nodes × 8 hold 4 replicas
    (tmp_path / "big.json").write_text(json.dumps(manifest))
    with operator_world(tmp_path) as world:
        world.kubectl("apply", "-f", str(tmp_path / "big.json"))

        scheduled = world.wait_until(
            lambda: _condition_with(world, "Scheduled", "False", "InsufficientGPU"),
            60,
            "Scheduled=False InsufficientGPU",
        )
        assert "GPU" in scheduled["message"] and any(c.isdigit() for c in scheduled["message"])
        world.wait_until(lambda: world.ready_replicas("llama3-70b") == 4, 60, "4 ready")
        before = {p["metadata"]["uid"] for p in world.replica_pods("llama3-70b")}
        world.cluster.run(lambda: world.cluster.cluster.add_node("h100"))

        world.wait_until(lambda: world.ready_replicas("llama3-70b") == 5, 60, "5 ready")
        after = {p["metadata"]["uid"] for p in world.replica_pods("llama3-70b")}
        assert before < after, "the four replicas that ran were kept"
        assert len(after) == 5


def test_a_model_no_node_can_hold_is_reported_with_its_plan_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    manifest = _manifest()
    manifest["metadata"]["name"] = "llama-405b"
    manifest["spec"]["model"] = {
        "name": "meta-llama/Llama-3.1-405B-Instruct",
        "maxModelLen": 8192,
        "dtype": "bfloat16",
    }
    (tmp_path / "405b.json").write_text(json.dumps(manifest))
    with operator_world(tmp_path) as world:
        world.kubectl("apply", "-f", str(tmp_path / "405b.json"))

        condition = world.wait_until(
            lambda: _condition_with(
                world, "Scheduled", "False", "MultiNodeUnsupported", name="llama-405b"
            ),
            60,
            "MultiNodeUnsupported",
        )
        placement = (world.llama("llama-405b") or {})["status"]["placement"]
        assert (placement["tensorParallelSize"], placement["pipelineParallelSize"]) == (8, 2)
        assert "2 nodes" in condition["message"]
        assert world.replica_pods("llama-405b") == []


def test_an_unknown_model_is_reported_as_invalid_spec_and_nothing_is_created(
    tmp_path: Path,
) -> None:
    manifest = _manifest()
    manifest["spec"]["model"] = {"name": "acme/mystery-model", "maxModelLen": 4096}
    (tmp_path / "mystery.json").write_text(json.dumps(manifest))
    with operator_world(tmp_path) as world:
        world.kubectl("apply", "-f", str(tmp_path / "mystery.json"))

        condition = world.wait_until(
            lambda: _condition_with(world, "Scheduled", "False", "InvalidSpec"), 60, "InvalidSpec"
        )
        assert "spec.model.name" in condition["message"]
        assert world.replica_pods("llama3-70b") == []


def test_a_missing_token_secret_is_the_pods_config_error_and_a_condition_naming_it(
    tmp_path: Path,
) -> None:
    manifest = _manifest()
    manifest["spec"]["replicas"] = 1
    manifest["spec"]["model"]["hfTokenSecretRef"] = {"name": "gated-token"}
    (tmp_path / "gated.json").write_text(json.dumps(manifest))
    with operator_world(tmp_path) as world:
        world.kubectl("apply", "-f", str(tmp_path / "gated.json"))

        degraded = world.wait_until(
            lambda: _condition_with(world, "Degraded", "True", "ReplicaConfigError"),
            60,
            "Degraded=True ReplicaConfigError",
        )
        assert 'secret "gated-token" not found' in degraded["message"]
        assert (
            "spec.model.hfTokenSecretRef names Secret gated-token, key token" in degraded["message"]
        )
        pods = world.kubectl("get", "pods", "-l", "serving.llamaops.io/deployment=llama3-70b")
        assert "CreateContainerConfigError" in pods.stdout

        world.kubectl("create", "secret", "generic", "gated-token", "--from-literal=token=hf_x")
        world.wait_until(lambda: world.ready_replicas("llama3-70b") == 1, 60, "1 ready")
        world.wait_until(
            lambda: _condition_with(world, "Degraded", "False", "AsExpected"), 30, "not degraded"
        )


def test_scale_up_and_down_and_delete_remove_everything(tmp_path: Path) -> None:
    with operator_world(tmp_path) as world:
        world.kubectl("apply", "-f", LLAMA_70B)
        world.wait_until(lambda: world.ready_replicas("llama3-70b") == 2, 60, "2 ready")

        world.kubectl("scale", "llama/llama3-70b", "--replicas=3")
        world.wait_until(lambda: world.ready_replicas("llama3-70b") == 3, 60, "3 ready")
        world.kubectl("scale", "llama/llama3-70b", "--replicas=1")
        world.wait_until(lambda: len(world.replica_pods("llama3-70b")) == 1, 60, "1 pod left")

        world.kubectl("delete", "llama", "llama3-70b", "--wait=true", "--timeout=60s")
        world.wait_until(
            lambda: world.replica_pods("llama3-70b") == [], 30, "the replicas finish terminating"
        )
        assert world.cluster.get("services", "default", "llama3-70b") is None
        assert world.cluster.get("poddisruptionbudgets", "default", "llama3-70b") is None


def _manifest() -> dict:  # type: ignore[type-arg]
    return dict(yaml.safe_load(Path(LLAMA_70B).read_text()))


def _condition_with(
    world: OperatorWorld, kind: str, status: str, reason: str, name: str = "llama3-70b"
) -> dict | None:  # type: ignore[type-arg]
    condition = world.condition(name, kind)
    if condition and condition["status"] == status and condition["reason"] == reason:
        return condition
    return None
