"""`llamaops plan` as a user runs it: the installed console script, from the repository root.

Exit codes are the contract: 0 it fits, 1 it does not (or the cluster failed us), 2 the
user's input is wrong, said in one line on stderr and never with a traceback.
"""

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.builders import DeploymentBuilder, a_deployment, gpu_node, gpu_pod

REPO = Path(__file__).resolve().parents[2]
LLAMAOPS = Path(sys.executable).parent / "llamaops"
MANIFESTS = sorted((REPO / "manifests").glob("*.yaml"))
LLAMA_70B = "manifests/llama3-70b.yaml"
LLAMA_8B = "manifests/llama3-8b.yaml"

# A Mistral-7B-shaped model: not in the catalog, described by its config.json.
CUSTOM_ARCHITECTURE = {
    "numHiddenLayers": 32,
    "hiddenSize": 4096,
    "numAttentionHeads": 32,
    "numKeyValueHeads": 8,
    "intermediateSize": 14336,
    "vocabSize": 32768,
    "parameters": 7_248_023_552,
    "maxPositionEmbeddings": 32768,
}


@dataclass(frozen=True)
class Run:
    """One finished `llamaops` command."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.stdout)
        return out

    def evidence(self) -> str:
        return f"exit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def llamaops(*args: str | Path) -> Run:
    done = subprocess.run(
        [str(LLAMAOPS), *(str(arg) for arg in args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def written(path: Path, *documents: Any) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def kubectl_list(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What `kubectl get nodes -o yaml` (or pods) prints: a `kind: List`."""
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def api_list(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """What the API server answers to a list call: a NodeList or PodList."""
    return {"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": items}


def two_h100_nodes_one_busy() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two 8-GPU H100 nodes; a 4-GPU pod on one, a finished 8-GPU job on the other."""
    nodes = [gpu_node("h100-0"), gpu_node("h100-1")]
    pods = [
        gpu_pod("h100-0", gpus=4, name="busy"),
        gpu_pod("h100-1", gpus=8, name="done", phase="Succeeded"),
    ]
    return nodes, pods


# --- planning without a cluster -------------------------------------------------------


def test_plan_prints_the_layout_as_json() -> None:
    run = llamaops("plan", "-f", LLAMA_70B, "-o", "json")

    assert run.code == 0, run.evidence()
    plan = run.json()
    assert plan.keys() >= {
        "tensorParallelSize",
        "pipelineParallelSize",
        "gpusPerReplica",
        "nodesPerReplica",
        "gpuProduct",
        "kvCacheTokens",
        "fits",
        "reason",
    }
    assert plan["tensorParallelSize"] == 4
    assert plan["pipelineParallelSize"] == 1
    assert plan["gpusPerReplica"] == 4
    assert plan["nodesPerReplica"] == 1
    assert plan["gpuProduct"] == "NVIDIA-H100-80GB-HBM3"
    assert plan["kvCacheTokens"] > 2 * 8192
    assert plan["fits"] is True
    assert "TP 4 fits" in plan["reason"]
    assert "replicasAvailable" not in plan


def test_plan_prints_a_table_for_people() -> None:
    run = llamaops("plan", "-f", LLAMA_70B)

    assert run.code == 0, run.evidence()
    assert "TP 4" in run.stdout
    assert "NVIDIA-H100-80GB-HBM3" in run.stdout
    assert run.stderr == ""


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m.name for m in MANIFESTS])
def test_every_example_manifest_plans(manifest: Path) -> None:
    run = llamaops("plan", "-f", manifest.relative_to(REPO))

    assert run.code == 0, run.evidence()


@pytest.mark.parametrize(
    ("manifest", "flags", "product", "tp", "pp"),
    [
        pytest.param(LLAMA_70B, ["--gpu", "L4"], "NVIDIA-L4", 8, 1, id="70B on L4: TP 8"),
        pytest.param(LLAMA_8B, ["--gpu", "L4"], "NVIDIA-L4", 2, 1, id="8B at 16K on L4: TP 2"),
        pytest.param(
            LLAMA_70B, ["--gpu", "H200"], "NVIDIA-H200", 2, 1, id="--gpu overrides spec.gpu.product"
        ),
        pytest.param(
            LLAMA_70B,
            ["--gpus-per-node", "2"],
            "NVIDIA-H100-80GB-HBM3",
            2,
            2,
            id="two-GPU nodes: TP 2 on each of two nodes",
        ),
    ],
)
def test_plan_sizes_for_the_gpu_and_node_given_on_the_command_line(
    manifest: str, flags: list[str], product: str, tp: int, pp: int
) -> None:
    run = llamaops("plan", "-f", manifest, *flags, "-o", "json")

    assert run.code == 0, run.evidence()
    plan = run.json()
    assert (plan["gpuProduct"], plan["tensorParallelSize"], plan["pipelineParallelSize"]) == (
        product,
        tp,
        pp,
    )


def test_a_model_that_does_not_fit_exits_1_and_says_so(tmp_path: Path) -> None:
    deployment = a_deployment().model("llama3.1-405b-instruct").dtype("bfloat16")
    manifest = written(tmp_path / "405b.yaml", deployment.max_model_len(8192).obj())

    run = llamaops("plan", "-f", manifest, "--gpu", "L4", "--gpus-per-node", "1", "-o", "json")

    assert run.code == 1, run.evidence()
    assert run.json()["fits"] is False
    assert "does not fit NVIDIA-L4" in run.json()["reason"]


def test_a_model_outside_the_catalog_plans_from_its_architecture(tmp_path: Path) -> None:
    deployment = a_deployment().model("mistralai/Mistral-7B-Instruct-v0.3")
    deployment.set("spec.model.architecture", CUSTOM_ARCHITECTURE).max_model_len(32768)
    manifest = written(tmp_path / "mistral.yaml", deployment.obj())

    run = llamaops("plan", "-f", manifest, "-o", "json")

    assert run.code == 0, run.evidence()
    plan = run.json()
    assert (plan["fits"], plan["tensorParallelSize"], plan["maxModelLen"]) == (True, 1, 32768)
    assert plan["reason"].startswith("7.2B in bfloat16")


# --- bad input: exit 2, one line, no traceback ------------------------------------------

BAD_YAML = "apiVersion: serving.llamaops.io/v1alpha1\nkind: LlamaDeployment\nspec:\n\tmodel: {}\n"
NOT_A_DEPLOYMENT = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"


@pytest.mark.parametrize(
    ("manifest", "flags", "says"),
    [
        pytest.param(
            Path("manifests/no-such-file.yaml"),
            [],
            ["no-such-file.yaml", "cannot read"],
            id="a file that does not exist",
        ),
        pytest.param(BAD_YAML, [], ["not valid YAML", "line 4"], id="a file that is not YAML"),
        pytest.param(
            NOT_A_DEPLOYMENT,
            [],
            ["no LlamaDeployment", "ConfigMap"],
            id="a file without a LlamaDeployment",
        ),
        pytest.param(
            a_deployment().model("acme/mystery-7b"),
            [],
            ["spec.model.name", "acme/mystery-7b", "spec.model.architecture"],
            id="a model outside the catalog without its architecture",
        ),
        pytest.param(
            a_deployment().gpu(memoryUtilization=1.5),
            [],
            ["spec.gpu.memoryUtilization", "1.5"],
            id="a memory utilization above the CRD's bound",
        ),
        pytest.param(
            a_deployment().replicas(-1),
            [],
            ["spec.replicas", "-1"],
            id="negative replicas",
        ),
        pytest.param(
            a_deployment().dtype("int4"),
            [],
            ["spec.model.dtype", "int4"],
            id="a dtype the CRD does not allow",
        ),
        pytest.param(
            a_deployment().autoscaling(enabled=True, minReplicas=5, maxReplicas=2),
            [],
            ["minReplicas", "maxReplicas"],
            id="autoscaling with minReplicas above maxReplicas",
        ),
        pytest.param(
            a_deployment().set("apiVersion", "serving.llamaops.io/v1"),
            [],
            ["apiVersion", "serving.llamaops.io/v1alpha1"],
            id="the wrong apiVersion",
        ),
        pytest.param(
            a_deployment()
            .model("llama3.1-70b-instruct")
            .max_model_len(8192)
            .gpu(tensorParallelSize=3),
            [],
            ["spec.gpu", "TP 3", "attention heads"],
            id="a tensor-parallel size that does not divide the heads",
        ),
        pytest.param(
            a_deployment()
            .model("llama3.1-70b-instruct")
            .dtype("bfloat16")
            .max_model_len(8192)
            .gpu(product="H100-80GB", tensorParallelSize=1),
            [],
            ["spec.gpu", "TP 1", "GiB"],
            id="70B bfloat16 forced onto one H100",
        ),
        pytest.param(
            Path(LLAMA_8B),
            ["--gpu", "B200"],
            ["--gpu", "B200", "H100-80GB"],
            id="an unknown --gpu",
        ),
        pytest.param(
            Path(LLAMA_8B), ["--gpus-per-node", "0"], ["--gpus-per-node"], id="zero GPUs per node"
        ),
        pytest.param(
            Path(LLAMA_8B),
            ["--gpus-per-node", "eight"],
            ["--gpus-per-node", "eight"],
            id="GPUs per node that is not a number",
        ),
        pytest.param(
            Path(LLAMA_8B),
            ["--nodes", "nodes.yaml", "--kubeconfig", "kubeconfig"],
            ["--nodes", "--kubeconfig"],
            id="both --nodes and --kubeconfig",
        ),
        pytest.param(
            Path(LLAMA_8B),
            ["--nodes", LLAMA_8B, "--gpus-per-node", "8"],
            ["--gpus-per-node"],
            id="--gpus-per-node with nodes that say how many they have",
        ),
        pytest.param(
            Path(LLAMA_8B),
            ["--nodes", LLAMA_8B],
            ["no Node objects"],
            id="a nodes file without nodes",
        ),
        pytest.param(
            a_deployment().gpu(tensorParalelSize=2),
            [],
            ['strict decoding error: unknown field "spec.gpu.tensorParalelSize"'],
            id="a misspelled field",
        ),
        pytest.param(
            a_deployment("Bad_Name"),
            [],
            ["metadata.name", "Bad_Name"],
            id="a name Kubernetes refuses",
        ),
        pytest.param(
            b"\xff\xfe\x00binary",
            [],
            ["not UTF-8 text"],
            id="a binary file",
        ),
        pytest.param(
            Path(LLAMA_8B),
            ["--kubeconfig", "no-such-kubeconfig"],
            ["--kubeconfig", "no-such-kubeconfig"],
            id="a kubeconfig that does not exist",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_problem(
    tmp_path: Path,
    manifest: Path | str | bytes | DeploymentBuilder,
    flags: list[str],
    says: list[str],
) -> None:
    if isinstance(manifest, bytes):
        (tmp_path / "deployment.yaml").write_bytes(manifest)
        manifest = tmp_path / "deployment.yaml"
    elif isinstance(manifest, DeploymentBuilder):
        manifest = written(tmp_path / "deployment.yaml", manifest.obj())
    elif isinstance(manifest, str):
        (tmp_path / "deployment.yaml").write_text(manifest)
        manifest = tmp_path / "deployment.yaml"

    run = llamaops("plan", "-f", manifest, *flags)

    assert run.code == 2, run.evidence()
    assert "Traceback" not in run.stdout + run.stderr, run.evidence()
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: ")
    for words in says:
        assert words in line


# --- planning against nodes: a file, or a live cluster ----------------------------------


def test_plan_counts_free_gpus_in_a_nodes_file(tmp_path: Path) -> None:
    nodes, pods = two_h100_nodes_one_busy()
    cluster = written(tmp_path / "cluster.yaml", kubectl_list(nodes), kubectl_list(pods))

    run = llamaops("plan", "-f", LLAMA_70B, "--nodes", cluster, "-o", "json")

    assert run.code == 0, run.evidence()
    plan = run.json()
    assert (plan["replicasAvailable"], plan["freeGpus"], plan["replicasRequested"]) == (3, 12, 2)
    assert plan["tensorParallelSize"] == 4


def test_plan_on_nodes_chooses_among_the_products_they_have(tmp_path: Path) -> None:
    nodes = [gpu_node("l4-0", product="NVIDIA-L4", gpus=8), gpu_node("h100-0")]
    cluster = written(tmp_path / "nodes.yaml", kubectl_list(nodes))

    run = llamaops("plan", "-f", LLAMA_8B, "--nodes", cluster)

    assert run.code == 0, run.evidence()
    assert "NVIDIA-H100-80GB-HBM3" in run.stdout
    assert "8 free GPUs hold 8 replicas; 2 requested" in run.stdout


@dataclass
class FakeApiServer:
    """An API server that answers node and pod lists, optionally failing the first requests."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    failures_left: int = 0
    forbidden: bool = False
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, authorization: str) -> tuple[int, dict[str, Any]]:
        self.requests.append((path, authorization))
        if self.failures_left > 0:
            self.failures_left -= 1
            return 500, {"kind": "Status", "status": "Failure", "code": 500}
        route = path.split("?", maxsplit=1)[0]
        if route == "/api/v1/nodes" and self.forbidden:
            message = 'nodes is forbidden: User "planner" cannot list resource "nodes"'
            return 403, {
                "kind": "Status",
                "status": "Failure",
                "reason": "Forbidden",
                "code": 403,
                "message": message,
            }
        if route == "/api/v1/nodes":
            return 200, api_list("NodeList", self.nodes)
        if route == "/api/v1/pods":
            return 200, api_list("PodList", self.pods)
        return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404}

    def kubeconfig(self, path: Path) -> Path:
        return written(
            path,
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                "users": [{"name": "planner", "user": {"token": "test-token"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "planner"}}],
                "current-context": "fake",
            },
        )


@pytest.fixture
def api_server() -> Iterator[FakeApiServer]:
    fake = FakeApiServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = fake.answer(self.path, self.headers.get("Authorization", ""))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize(
    "failures",
    [
        pytest.param(0, id="a cluster that answers"),
        pytest.param(2, id="a cluster that fails twice with 500 first"),
    ],
)
def test_plan_reads_nodes_and_pods_from_a_live_cluster(
    tmp_path: Path, api_server: FakeApiServer, failures: int
) -> None:
    api_server.nodes, api_server.pods = two_h100_nodes_one_busy()
    api_server.failures_left = failures
    kubeconfig = api_server.kubeconfig(tmp_path / "kubeconfig")

    run = llamaops("plan", "-f", LLAMA_70B, "--kubeconfig", kubeconfig, "-o", "json")

    assert run.code == 0, run.evidence()
    plan = run.json()
    assert (plan["replicasAvailable"], plan["freeGpus"]) == (3, 12)
    paths = [path.split("?", maxsplit=1)[0] for path, _ in api_server.requests]
    assert paths == ["/api/v1/nodes"] * (failures + 1) + ["/api/v1/pods"]
    assert {auth for _, auth in api_server.requests} == {"Bearer test-token"}


def test_a_cluster_that_refuses_the_list_exits_1_with_one_line(
    tmp_path: Path, api_server: FakeApiServer
) -> None:
    kubeconfig = api_server.kubeconfig(tmp_path / "kubeconfig")
    kubeconfig.write_text(kubeconfig.read_text().replace(api_server.url, api_server.url + "/nope"))

    run = llamaops("plan", "-f", LLAMA_70B, "--kubeconfig", kubeconfig)

    assert run.code == 1, run.evidence()
    assert "Traceback" not in run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: cannot read nodes and pods")


@pytest.mark.parametrize(
    ("node", "says"),
    [
        pytest.param(
            {"kind": "Node", "metadata": {}, "status": {}},
            "a Node without metadata.name",
            id="a node without a name",
        ),
        pytest.param(
            {**gpu_node("odd-0"), "status": {"allocatable": {"nvidia.com/gpu": "1k"}}},
            "node odd-0 allocatable: nvidia.com/gpu '1k' is not a whole number of GPUs",
            id="a GPU count that is not a whole number",
        ),
    ],
)
def test_a_malformed_nodes_file_exits_2_with_one_line(
    tmp_path: Path, node: dict[str, Any], says: str
) -> None:
    nodes = written(tmp_path / "nodes.yaml", kubectl_list([node]))

    run = llamaops("plan", "-f", LLAMA_70B, "--nodes", nodes)

    assert run.code == 2, run.evidence()
    (line,) = run.stderr.splitlines()
    assert says in line


def test_nulls_in_a_nodes_file_are_read_as_absent(tmp_path: Path) -> None:
    node = {**gpu_node("h100-0"), "spec": {"taints": None}}
    nodes = written(tmp_path / "nodes.yaml", kubectl_list([node]))

    run = llamaops("plan", "-f", LLAMA_70B, "--nodes", nodes, "-o", "json")

    assert run.code == 0, run.evidence()
    assert run.json()["replicasAvailable"] == 2


def test_no_usable_node_of_the_named_product_exits_1_and_says_which_and_why(
    tmp_path: Path,
) -> None:
    dedicated = [{"key": "dedicated", "value": "infer", "effect": "NoSchedule"}]
    cluster = kubectl_list(
        [gpu_node("h100-0", taints=dedicated), gpu_node("l4-0", product="NVIDIA-L4")]
    )
    nodes = written(tmp_path / "nodes.yaml", cluster)

    run = llamaops("plan", "-f", LLAMA_70B, "--nodes", nodes, "-o", "json")

    assert run.code == 1, run.evidence()
    plan = run.json()
    assert plan["replicasAvailable"] == 0
    assert "excluded: h100-0 taint dedicated=infer:NoSchedule not tolerated" in plan["reason"]


def test_no_usable_node_at_all_still_prints_every_json_key(tmp_path: Path) -> None:
    nodes = written(tmp_path / "nodes.yaml", kubectl_list([gpu_node("h100-0", cordoned=True)]))

    run = llamaops("plan", "-f", LLAMA_8B, "--nodes", nodes, "-o", "json")

    assert run.code == 1, run.evidence()
    plan = run.json()
    assert plan["fits"] is False and plan["tensorParallelSize"] is None
    assert "h100-0 cordoned" in plan["reason"]


def test_a_forbidden_list_says_why_in_one_line(tmp_path: Path, api_server: FakeApiServer) -> None:
    api_server.forbidden = True

    run = llamaops("plan", "-f", LLAMA_70B, "--kubeconfig", api_server.kubeconfig(tmp_path / "k"))

    assert run.code == 1, run.evidence()
    (line,) = run.stderr.splitlines()
    assert line == (
        "error: cannot read nodes and pods: 403 Forbidden: "
        'nodes is forbidden: User "planner" cannot list resource "nodes"'
    )
