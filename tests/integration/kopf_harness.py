"""Running `kopf run` of the test operator as a subprocess against the API emulator, and
reading the world back through the official client, for test_kopf.py."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, TypeVar

import kubernetes
import yaml

from tests.integration import widget_kind as widgets
from tests.waiting import wait_until

T = TypeVar("T")
OPERATOR = Path(__file__).with_name("kopf_operator.py")
KOPF = Path(sys.executable).with_name("kopf")
NAMESPACE = "default"
READY = "Initial authentication has finished."  # logged after kopf handles signals
NAMESPACED = ["--namespace", NAMESPACE]
# How kopf may be told to watch: its command-line options, and the environment the test
# operator turns into watching settings (kopf_operator.configure).
MODES: dict[str, tuple[list[str], dict[str, str]]] = {
    "namespaced": (NAMESPACED, {}),
    "cluster-wide": (["--all-namespaces"], {}),
    "initial-streaming": (NAMESPACED, {widgets.INITIAL_STREAMING: "1"}),
    "chunked-lists": (NAMESPACED, {widgets.CHUNK_SIZE: "1"}),
}
# Log lines that would mean kopf met something a real API server does not do. kopf logs
# levels as "[WARNING ]"; it logs a 404 or a 422 on its patches at DEBUG, as normal races.
BAD_LOG_MARKS = (
    "Traceback",
    "[WARNING",
    "[ERROR",
    "[CRITICAL",
    "inconsistencies",
    "Timed out",
    "timed out",
    "did not exit in time",
)
STOPPING = "Operator is stopping."
TEARDOWN_RETRY = re.compile(r"\[ERROR +\] .*Request attempt #\d+/\d+ failed")


class Cluster:
    """The emulator as a user sees it through the official client."""

    def __init__(self, client: kubernetes.client.ApiClient) -> None:
        self.core = kubernetes.client.CoreV1Api(client)
        self.custom = kubernetes.client.CustomObjectsApi(client)
        self.extensions = kubernetes.client.ApiextensionsV1Api(client)

    def widget(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.custom.get_namespaced_custom_object(
                widgets.GROUP, widgets.VERSION, NAMESPACE, widgets.PLURAL, name
            )
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                return None
            raise
        return found

    def meta(self, name: str) -> dict[str, Any]:
        found = self.widget(name) or {}
        return dict(found.get("metadata") or {})

    def status(self, name: str) -> dict[str, Any]:
        found = self.widget(name) or {}
        return dict(found.get("status") or {})

    def create_widget(self, body: dict[str, Any]) -> None:
        self.custom.create_namespaced_custom_object(
            widgets.GROUP, widgets.VERSION, NAMESPACE, widgets.PLURAL, body
        )

    def patch_widget(self, name: str, patch: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(
            widgets.GROUP, widgets.VERSION, NAMESPACE, widgets.PLURAL, name, patch
        )

    def delete_widget(self, name: str) -> None:
        self.custom.delete_namespaced_custom_object(
            widgets.GROUP, widgets.VERSION, NAMESPACE, widgets.PLURAL, name
        )

    def config_map(self, name: str) -> Any:
        try:
            return self.core.read_namespaced_config_map(name, NAMESPACE)
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                return None
            raise

    def events_for(self, name: str, reason: str) -> list[Any]:
        events = self.core.list_namespaced_event(NAMESPACE).items
        return [e for e in events if e.involved_object.name == name and e.reason == reason]

    def dump(self) -> str:
        """Widgets, ConfigMaps and Events as YAML: the evidence a failing test leaves."""
        sections = {
            "widgets": self.custom.list_namespaced_custom_object(
                widgets.GROUP, widgets.VERSION, NAMESPACE, widgets.PLURAL
            )["items"],
            "configmaps": [
                c.to_dict() for c in self.core.list_namespaced_config_map(NAMESPACE).items
            ],
            "events": [e.to_dict() for e in self.core.list_namespaced_event(NAMESPACE).items],
        }
        return yaml.safe_dump(sections, sort_keys=False, default_flow_style=False)


class KopfRun:
    """`kopf run` of the test operator as a subprocess, its log going to a file."""

    def __init__(self, kubeconfig: Path, log: Path, mode: str) -> None:
        options, settings = MODES[mode]
        # No KUBERNETES_SERVICE_HOST: kopf's login would prefer the in-cluster config.
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env.update(settings, KUBECONFIG=str(kubeconfig))
        self.log_path = log
        self._log = log.open("wb")
        command = [str(KOPF), "run", "--standalone", "--verbose", *options, str(OPERATOR)]
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=OPERATOR.parent
        )
        self.exit_code: int | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _started(self) -> bool:
        return READY in self.log() or self.process.poll() is not None

    def stop(self) -> int:
        """SIGINT, as a user's Ctrl+C; kill only if kopf hangs. Returns the exit code."""
        if self.exit_code is None:
            # Before its signal handlers are in place, SIGINT is a bare KeyboardInterrupt.
            wait_until(self._started, timeout=15, what="kopf started")
            self.process.send_signal(signal.SIGINT)
            try:
                self.exit_code = self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.exit_code = self.process.wait()
                self._log.close()
                raise AssertionError("kopf did not stop within 10 s of SIGINT") from None
            self._log.close()
        return self.exit_code


def log_trouble(log: str) -> list[str]:
    """The lines of a kopf log that say it met trouble. A request retried once kopf is
    stopping is its own teardown, not the server: kopf closes its HTTP session while a
    timer's last patch may still be in flight, and logs that patch's retries at ERROR
    ("TCP closed; will re-authenticate", kopf/_cogs/clients/api.py)."""
    stopping = False
    bad = []
    for line in log.splitlines():
        stopping = stopping or STOPPING in line
        if stopping and TEARDOWN_RETRY.search(line):
            continue
        if any(mark in line for mark in BAD_LOG_MARKS):
            bad.append(line)
    return bad


def assert_clean_log(log: str, handlers: list[str]) -> None:
    bad = log_trouble(log)
    assert not bad, "kopf logged trouble:\n" + "\n".join(bad)
    missing = [h for h in handlers if f"{h} succeeded." not in log]
    assert not missing, f"kopf never logged success of: {missing}"
