"""Process mode: how a pod's container becomes a local command line and environment.

`process_command` maps checkpoint paths through `engine.modelDirs`, binds `vllm serve` to the
pod's IP, runs under `nice` and puts `engine.path` first; `container_env` resolves the pod's
variables as the kubelet would; `load_cluster_file` reads relative engine paths from the
cluster file's own folder.
"""

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from llamaops.sim.cluster.config import Engine, load_cluster_file
from llamaops.sim.cluster.process_command import (
    container_env,
    process_command,
    without_flag,
)

Obj = dict[str, Any]
IP = "10.244.1.7"


def pod(name: str = "llama-0", namespace: str | None = "serving") -> Obj:
    meta: Obj = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"metadata": meta, "spec": {}}


def container(
    command: list[str] | None = None, args: list[str] | None = None, env: list[Obj] | None = None
) -> Obj:
    spec: Obj = {"name": "vllm"}
    if command is not None:
        spec["command"] = command
    if args is not None:
        spec["args"] = args
    if env is not None:
        spec["env"] = env
    return spec


def no_secrets(namespace: str, name: str) -> Obj | None:
    return None


class Secrets:
    """A secret reader over a fixed set of Secrets, keyed by (namespace, name)."""

    def __init__(self, secrets: dict[tuple[str, str], Obj]) -> None:
        self.secrets = secrets
        self.asked: list[tuple[str, str]] = []

    def __call__(self, namespace: str, name: str) -> Obj | None:
        self.asked.append((namespace, name))
        return self.secrets.get((namespace, name))


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def argv_of(engine: Engine, command: list[str], args: list[str] | None = None) -> list[str]:
    return process_command(engine, pod(), container(command, args), IP, no_secrets).argv


# --- the command line ----------------------------------------------------------------------
def test_a_plain_command_keeps_its_words_in_order_command_then_args() -> None:
    argv = argv_of(Engine(), ["python", "-m", "server"], ["--port", "9000"])

    assert argv == ["python", "-m", "server", "--port", "9000"]


def test_a_container_with_neither_command_nor_args_gives_an_empty_command_line() -> None:
    assert argv_of(Engine(), []) == []
    assert process_command(Engine(), pod(), {"name": "c"}, IP, no_secrets).argv == []


@pytest.mark.parametrize(
    ("model_dirs", "words", "expected"),
    [
        (
            {"/models/tiny-a": "/ckpt/tiny-a"},
            ["run", "/models/tiny-a"],
            ["run", "/ckpt/tiny-a"],
        ),
        (  # every occurrence, in command and args alike
            {"/models/tiny-a": "/ckpt/tiny-a"},
            ["/models/tiny-a", "--tokenizer", "/models/tiny-a"],
            ["/ckpt/tiny-a", "--tokenizer", "/ckpt/tiny-a"],
        ),
        (  # two maps, each to its own directory
            {"/models/a": "/here/a", "/models/b": "/here/b"},
            ["run", "/models/b", "/models/a"],
            ["run", "/here/b", "/here/a"],
        ),
        (  # only exact words: not a prefix, a suffix or a flag's inline value
            {"/models/tiny-a": "/ckpt/tiny-a"},
            ["run", "/models/tiny-a/config.json", "/models/tiny", "--model=/models/tiny-a"],
            ["run", "/models/tiny-a/config.json", "/models/tiny", "--model=/models/tiny-a"],
        ),
        (  # a model URI used as a name
            {"hf://org/tiny@main": "/ckpt/tiny"},
            ["run", "hf://org/tiny@main"],
            ["run", "/ckpt/tiny"],
        ),
        ({}, ["run", "/models/tiny-a"], ["run", "/models/tiny-a"]),
    ],
)
def test_model_paths_in_the_pod_are_mapped_to_local_directories_word_by_word(
    model_dirs: dict[str, str], words: list[str], expected: list[str]
) -> None:
    engine = Engine.model_validate({"modelDirs": model_dirs})

    assert argv_of(engine, words[:1], words[1:]) == expected


def test_a_mapped_model_path_is_mapped_in_a_vllm_command_too() -> None:
    engine = Engine.model_validate({"modelDirs": {"/models/tiny-a": "/ckpt/tiny-a"}})

    argv = argv_of(engine, ["vllm", "serve"], ["/models/tiny-a", "--port", "8000"])

    assert argv == ["vllm", "serve", "/ckpt/tiny-a", "--port", "8000", "--host", IP]


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        (["vllm", "serve"], ["m"], ["vllm", "serve", "m", "--host", IP]),
        (["vllm"], ["serve", "m"], ["vllm", "serve", "m", "--host", IP]),
        (
            ["/opt/venv/bin/vllm", "serve", "m"],
            [],
            ["/opt/venv/bin/vllm", "serve", "m", "--host", IP],
        ),
        (  # an existing --host VALUE is replaced
            ["vllm", "serve"],
            ["m", "--host", "0.0.0.0", "--port", "8000"],
            ["vllm", "serve", "m", "--port", "8000", "--host", IP],
        ),
        (  # an existing --host=VALUE is replaced
            ["vllm", "serve"],
            ["m", "--host=0.0.0.0", "--port", "8000"],
            ["vllm", "serve", "m", "--port", "8000", "--host", IP],
        ),
        (  # both spellings at once
            ["vllm", "serve"],
            ["--host", "::", "m", "--host=127.0.0.1"],
            ["vllm", "serve", "m", "--host", IP],
        ),
        (  # the OpenAI server module run by Python
            ["python", "-m", "vllm.entrypoints.openai.api_server"],
            ["--model", "m", "--host", "0.0.0.0"],
            [
                "python",
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model",
                "m",
                "--host",
                IP,
            ],
        ),
    ],
)
def test_a_vllm_command_is_bound_to_the_pod_ip(
    command: list[str], args: list[str], expected: list[str]
) -> None:
    assert argv_of(Engine(), command, args) == expected


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (["python", "-m", "http.server"], ["8000"]),
        (["vllm"], ["bench", "--host", "0.0.0.0"]),  # vllm, but not its server
        (["serve", "vllm"], []),
        (["sleep", "infinity"], []),
        (["echo"], ["--host", "0.0.0.0"]),  # a --host of its own is left alone
    ],
)
def test_a_command_that_is_not_a_vllm_server_is_not_given_a_host(
    command: list[str], args: list[str]
) -> None:
    argv = argv_of(Engine(), command, args)

    assert argv == [*command, *args]
    assert IP not in argv


@pytest.mark.parametrize(
    ("niceness", "command", "expected"),
    [
        (0, ["sleep", "1"], ["sleep", "1"]),
        (10, ["sleep", "1"], ["nice", "-n", "10", "sleep", "1"]),
        (19, ["sleep", "1"], ["nice", "-n", "19", "sleep", "1"]),
        (  # nice comes first, the host last
            5,
            ["vllm", "serve", "m"],
            ["nice", "-n", "5", "vllm", "serve", "m", "--host", IP],
        ),
    ],
)
def test_a_positive_niceness_runs_the_command_under_nice(
    niceness: int, command: list[str], expected: list[str]
) -> None:
    assert argv_of(Engine(niceness=niceness), command) == expected


# --- the environment of process_command --------------------------------------------------
def test_engine_path_entries_come_before_the_processes_own_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    engine = Engine(path=["/venv-vllm/bin", "/tools/bin"])

    env = process_command(engine, pod(), container(["vllm"]), IP, no_secrets).env

    assert env["PATH"] == os.pathsep.join(["/venv-vllm/bin", "/tools/bin", "/usr/bin:/bin"])


def test_without_engine_path_the_path_is_the_processes_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    env = process_command(Engine(), pod(), container(["vllm"]), IP, no_secrets).env

    assert env["PATH"] == "/usr/bin:/bin"


def test_without_any_path_engine_path_comes_before_the_default_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PATH", raising=False)

    env = process_command(Engine(path=["/v/bin"]), pod(), container(["x"]), IP, no_secrets).env

    assert env["PATH"] == os.pathsep.join(["/v/bin", os.defpath])


def test_the_container_variables_are_laid_over_the_processes_own_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/tester")
    monkeypatch.setenv("LLAMAOPS_TEST_SHARED", "from-the-machine")
    spec = container(["x"], env=[{"name": "LLAMAOPS_TEST_SHARED", "value": "from-the-pod"}])

    env = process_command(Engine(), pod("p-1"), spec, IP, no_secrets).env

    assert env["HOME"] == "/home/tester"
    assert env["LLAMAOPS_TEST_SHARED"] == "from-the-pod"
    assert (env["POD_IP"], env["POD_NAME"]) == (IP, "p-1")


# --- container_env -------------------------------------------------------------------------
def test_a_container_without_env_still_gets_pod_ip_and_pod_name() -> None:
    assert container_env(pod("llama-3"), container(["x"]), IP, no_secrets) == {
        "POD_IP": IP,
        "POD_NAME": "llama-3",
    }


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ({"name": "A", "value": "plain"}, "plain"),
        ({"name": "A", "value": ""}, ""),
        ({"name": "A", "value": 8000}, "8000"),
        ({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}, IP),
        ({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}, "llama-0"),
        (
            {"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            "serving",
        ),
    ],
)
def test_a_value_or_a_field_of_the_pod_sets_the_variable(variable: Obj, expected: str) -> None:
    env = container_env(pod("llama-0", "serving"), container(env=[variable]), IP, no_secrets)

    assert env["A"] == expected


def test_a_pod_without_a_namespace_is_in_the_default_namespace() -> None:
    variable = {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}

    env = container_env(pod(namespace=None), container(env=[variable]), IP, no_secrets)

    assert env["NS"] == "default"


def test_a_field_the_kubelet_here_does_not_know_leaves_the_variable_out() -> None:
    variable = {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}

    env = container_env(pod(), container(env=[variable]), IP, no_secrets)

    assert "NODE" not in env


def test_the_pods_own_variables_can_override_pod_ip_and_pod_name() -> None:
    spec = container(
        env=[{"name": "POD_IP", "value": "1.2.3.4"}, {"name": "POD_NAME", "value": "x"}]
    )

    env = container_env(pod("p"), spec, IP, no_secrets)

    assert (env["POD_IP"], env["POD_NAME"]) == ("1.2.3.4", "x")


def test_a_later_variable_of_the_same_name_wins() -> None:
    spec = container(env=[{"name": "A", "value": "first"}, {"name": "A", "value": "second"}])

    assert container_env(pod(), spec, IP, no_secrets)["A"] == "second"


def secret_ref(name: str, key: str, variable: str = "TOKEN") -> Obj:
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": name, "key": key}}}


HF_SECRET = {
    "data": {"token": b64("hf_abc123"), "bad-base64": "not base64!", "latin1": "/w=="},
    "stringData": {"plain": "written-as-text", "token-too": "from-string-data"},
}


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (secret_ref("hf", "token"), "hf_abc123"),  # data, base64-decoded
        (secret_ref("hf", "plain"), "written-as-text"),  # stringData, as it is
    ],
)
def test_a_secret_key_reference_is_read_from_the_pods_namespace(ref: Obj, expected: str) -> None:
    secrets = Secrets({("serving", "hf"): HF_SECRET})

    env = container_env(pod(namespace="serving"), container(env=[ref]), IP, secrets)

    assert env["TOKEN"] == expected
    assert secrets.asked == [("serving", "hf")]


def test_string_data_wins_over_data_for_the_same_key() -> None:
    secrets = Secrets({("ns", "s"): {"data": {"k": b64("encoded")}, "stringData": {"k": "text"}}})

    env = container_env(pod(namespace="ns"), container(env=[secret_ref("s", "k")]), IP, secrets)

    assert env["TOKEN"] == "text"


@pytest.mark.parametrize(
    ("secrets", "ref"),
    [
        ({}, secret_ref("hf", "token")),  # no such Secret
        ({("other", "hf"): HF_SECRET}, secret_ref("hf", "token")),  # in another namespace
        ({("serving", "hf"): HF_SECRET}, secret_ref("hf", "missing")),  # no such key
        ({("serving", "hf"): HF_SECRET}, secret_ref("hf", "bad-base64")),  # not base64
        ({("serving", "hf"): HF_SECRET}, secret_ref("hf", "latin1")),  # not UTF-8
        ({("serving", "hf"): {}}, secret_ref("hf", "token")),  # an empty Secret
        ({("serving", "hf"): {"data": None, "stringData": None}}, secret_ref("hf", "token")),
    ],
)
def test_a_secret_reference_that_cannot_be_resolved_leaves_the_variable_out(
    secrets: dict[tuple[str, str], Obj], ref: Obj
) -> None:
    spec = container(env=[ref, {"name": "OTHER", "value": "kept"}])

    env = container_env(pod("p", "serving"), spec, IP, Secrets(secrets))

    assert env == {"POD_IP": IP, "POD_NAME": "p", "OTHER": "kept"}


def test_process_command_resolves_secrets_through_the_reader_it_is_given() -> None:
    secrets = Secrets({("serving", "hf"): HF_SECRET})
    spec = container(["vllm", "serve", "m"], env=[secret_ref("hf", "token", "HF_TOKEN")])

    env = process_command(Engine(), pod(namespace="serving"), spec, IP, secrets).env

    assert env["HF_TOKEN"] == "hf_abc123"


# --- without_flag --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], []),
        (["a", "b"], ["a", "b"]),
        (["a", "--host", "h", "b"], ["a", "b"]),
        (["a", "--host=h", "b"], ["a", "b"]),
        (["--host", "h", "--host=i", "--host", "j"], []),
        (["a", "--host"], ["a"]),  # a trailing flag without its value
        (["--hostname", "n", "--host-x=1"], ["--hostname", "n", "--host-x=1"]),  # other flags
        (["--port", "--host"], ["--port"]),
    ],
)
def test_without_flag_drops_the_flag_and_its_value_in_either_spelling(
    words: list[str], expected: list[str]
) -> None:
    assert without_flag(words, "--host") == expected


# --- the cluster file's engine paths -------------------------------------------------------
def write_cluster_file(folder: Path, engine: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cluster.yaml"
    path.write_text(f"nodes:\n  - pool: cpu\n    count: 1\nengine:\n{engine}")
    return path


def test_relative_engine_paths_are_read_from_the_cluster_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "deploy" / "sim"
    path = write_cluster_file(
        folder,
        "  mode: process\n"
        "  modelDirs: {/models/tiny-a: ../../ckpt/tiny-a, /models/b: here/b}\n"
        "  path: [../../venv/bin, bin]\n"
        "  logDir: logs\n"
        "  niceness: 10\n",
    )

    engine = load_cluster_file(path).engine

    root = tmp_path.resolve()
    assert engine.model_dirs == {
        "/models/tiny-a": str(root / "ckpt" / "tiny-a"),
        "/models/b": str(root / "deploy" / "sim" / "here" / "b"),
    }
    assert engine.path == [str(root / "venv" / "bin"), str(root / "deploy" / "sim" / "bin")]
    assert engine.log_dir == str(root / "deploy" / "sim" / "logs")
    assert (engine.mode, engine.niceness) == ("process", 10)


def test_absolute_engine_paths_are_kept_as_written(tmp_path: Path) -> None:
    path = write_cluster_file(
        tmp_path,
        "  modelDirs: {/models/a: /opt/ckpt/a, /models/b: /opt/../ckpt/b}\n"
        "  path: [/opt/venv/bin]\n"
        "  logDir: /tmp/engine-logs\n",
    )

    engine = load_cluster_file(path).engine

    assert engine.model_dirs == {"/models/a": "/opt/ckpt/a", "/models/b": "/opt/../ckpt/b"}
    assert engine.path == ["/opt/venv/bin"]
    assert engine.log_dir == "/tmp/engine-logs"


def test_a_cluster_file_mixing_relative_and_absolute_paths_resolves_only_the_relative(
    tmp_path: Path,
) -> None:
    path = write_cluster_file(tmp_path, "  path: [/usr/local/bin, tools]\n")

    engine = load_cluster_file(path).engine

    assert engine.path == ["/usr/local/bin", str(tmp_path.resolve() / "tools")]


def test_a_cluster_file_without_engine_paths_leaves_them_empty(tmp_path: Path) -> None:
    path = write_cluster_file(tmp_path, "  mode: process\n")

    engine = load_cluster_file(path).engine

    assert (engine.model_dirs, engine.path, engine.log_dir, engine.niceness) == ({}, [], None, 0)


def test_a_loaded_engine_maps_model_words_to_the_resolved_directories(tmp_path: Path) -> None:
    path = write_cluster_file(tmp_path, "  modelDirs: {/models/tiny-a: ckpt/tiny-a}\n")
    engine = load_cluster_file(path).engine

    argv = argv_of(engine, ["vllm", "serve", "/models/tiny-a"])

    assert argv == ["vllm", "serve", str(tmp_path.resolve() / "ckpt" / "tiny-a"), "--host", IP]
