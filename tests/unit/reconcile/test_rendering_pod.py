"""A replica pod's inside: the `vllm serve` command line, GPUs, scheduling, probes, env."""

from typing import Any

import pytest

from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.errors import SpecError
from llamaops.model_resolution import resolve_model
from llamaops.reconcile.rendering import engine_args, owned_flag_conflicts
from tests.builders import a_deployment
from tests.unit.reconcile.rendering_builders import H100, llama_8b, llama_70b, placed, render

GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}


# --- sizing reaches the pod: TP, GPUs, product, taint ----------------------------------


def test_70b_on_h100_runs_tp_4_on_4_gpus_of_that_product() -> None:
    replica = render(llama_70b())

    assert replica.arg("--tensor-parallel-size") == "4"
    assert "--pipeline-parallel-size" not in replica.args
    assert replica.container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    assert replica.container["resources"]["requests"]["nvidia.com/gpu"] == "4"
    assert replica.pod["spec"]["nodeSelector"] == {"nvidia.com/gpu.product": H100}
    assert replica.pod["spec"]["tolerations"] == [GPU_TOLERATION]


def test_a_pipeline_of_two_stages_is_passed_to_vllm_and_requests_every_stage_gpu() -> None:
    replica = render(llama_70b().gpu(tensorParallelSize=2, pipelineParallelSize=2))

    assert replica.arg("--tensor-parallel-size") == "2"
    assert replica.arg("--pipeline-parallel-size") == "2"
    assert replica.container["resources"]["limits"]["nvidia.com/gpu"] == "4"


def test_a_replica_spanning_nodes_is_not_rendered_as_one_pod() -> None:
    deployment = a_deployment().model("llama3.1-405b-instruct").max_model_len(8192)

    with pytest.raises(ValueError, match="spans 2 nodes"):
        render(deployment.dtype("bfloat16"))


# --- the command line -------------------------------------------------------------------


def test_the_command_line_has_every_flag_the_spec_sets_in_order() -> None:
    replica = render(
        llama_70b().gpu(memoryUtilization=0.85).rollout(drainTimeoutSeconds=90),
    )

    assert replica.container["command"] == ["vllm", "serve"]
    assert replica.args == [
        "meta-llama/Llama-3.1-70B-Instruct",
        "--served-model-name",
        "llama3.1-70b-instruct",
        "--tensor-parallel-size",
        "4",
        "--max-model-len",
        "8192",
        "--gpu-memory-utilization",
        "0.85",
        "--dtype",
        "bfloat16",
        "--port",
        "8000",
        "--shutdown-timeout",
        "90",
    ]


@pytest.mark.parametrize(
    ("model", "served"),
    [
        pytest.param(
            "llama3.1-8b-instruct",
            "meta-llama/Llama-3.1-8B-Instruct",
            id="a catalog alias loads its Hugging Face id",
        ),
        pytest.param(
            "meta-llama/Meta-Llama-3.1-8B-Instruct",
            "meta-llama/Llama-3.1-8B-Instruct",
            id="an old Llama 3.1 repository name loads the current one",
        ),
        pytest.param(
            "meta-llama/Llama-3.2-1B",
            "meta-llama/Llama-3.2-1B",
            id="a Hugging Face id loads itself",
        ),
    ],
)
def test_without_a_checkpoint_vllm_loads_the_hugging_face_id(model: str, served: str) -> None:
    replica = render(a_deployment().model(model).max_model_len(8192))

    assert replica.args[0] == served
    assert replica.arg("--served-model-name") == model


@pytest.mark.parametrize(
    ("checkpoint", "model", "extra_args", "volume", "mount"),
    [
        pytest.param(
            {"uri": "hf://acme/llama-70b-ft", "revision": "v2"},
            "acme/llama-70b-ft",
            ["--revision", "v2"],
            None,
            None,
            id="hf:// is a repository id, its revision --revision",
        ),
        pytest.param(
            {"uri": "hf://acme/llama-70b-ft"},
            "acme/llama-70b-ft",
            [],
            None,
            None,
            id="hf:// without a revision",
        ),
        pytest.param(
            {"uri": "s3://weights/llama/70b-ft", "revision": "3"},
            "s3://weights/llama/70b-ft",
            [],
            None,
            None,
            id="s3:// is passed as the URI",
        ),
        pytest.param(
            {"uri": "gs://weights/llama/70b-ft"},
            "gs://weights/llama/70b-ft",
            [],
            None,
            None,
            id="gs:// is passed as the URI",
        ),
        pytest.param(
            {"uri": "pvc://model-store/llama/70b-ft"},
            "/models/model-store/llama/70b-ft",
            [],
            {"persistentVolumeClaim": {"claimName": "model-store", "readOnly": True}},
            "/models/model-store",
            id="pvc:// mounts the claim read-only under /models",
        ),
        pytest.param(
            {"uri": "pvc://model-store"},
            "/models/model-store",
            [],
            {"persistentVolumeClaim": {"claimName": "model-store", "readOnly": True}},
            "/models/model-store",
            id="pvc:// without a path loads the claim's root",
        ),
        pytest.param(
            {"uri": "file:///mnt/weights/llama-70b"},
            "/mnt/weights/llama-70b",
            [],
            {"hostPath": {"path": "/mnt/weights/llama-70b", "type": "Directory"}},
            "/mnt/weights/llama-70b",
            id="file:// mounts the node's directory at the same path",
        ),
    ],
)
def test_a_checkpoint_says_what_vllm_loads_and_what_is_mounted(
    checkpoint: dict[str, str],
    model: str,
    extra_args: list[str],
    volume: dict[str, Any] | None,
    mount: str | None,
) -> None:
    replica = render(llama_70b().set("spec.model.checkpoint", checkpoint))

    assert replica.args[0] == model
    assert replica.args[1 : 1 + len(extra_args)] == extra_args
    assert replica.arg("--served-model-name") == "llama3.1-70b-instruct"
    volumes = {v["name"]: v for v in replica.pod["spec"]["volumes"]}
    mounts = {m["name"]: m for m in replica.container["volumeMounts"]}
    if volume is None:
        assert "checkpoint" not in volumes
        assert "checkpoint" not in mounts
    else:
        assert volumes["checkpoint"] == {"name": "checkpoint", **volume}
        assert mounts["checkpoint"] == {"name": "checkpoint", "mountPath": mount, "readOnly": True}


def test_a_file_checkpoint_at_the_root_is_refused() -> None:
    with pytest.raises(SpecError, match="needs a directory"):
        render(llama_8b().set("spec.model.checkpoint", {"uri": "file:///"}))


@pytest.mark.parametrize(
    ("model", "dtype", "flags", "absent"),
    [
        pytest.param(
            "llama3.1-70b-instruct",
            "auto",
            ["--dtype", "bfloat16"],
            "--quantization",
            id="auto is the model's own bfloat16",
        ),
        pytest.param(
            "llama3.1-70b-instruct",
            "float16",
            ["--dtype", "float16"],
            "--quantization",
            id="float16",
        ),
        pytest.param(
            "llama3.1-70b-instruct",
            "fp8",
            ["--quantization", "fp8"],
            "--dtype",
            id="fp8 of a bfloat16 model quantizes as it loads",
        ),
        pytest.param(
            "llama3.1-405b-instruct-fp8",
            "auto",
            [],
            "--quantization",
            id="an FP8 checkpoint brings its own quantization",
        ),
    ],
)
def test_precision_becomes_dtype_or_quantization(
    model: str, dtype: str, flags: list[str], absent: str
) -> None:
    spec = LlamaDeploymentSpec.model_validate(
        a_deployment().model(model).dtype(dtype).max_model_len(8192).obj()["spec"]
    )
    resolved = resolve_model(spec.model)
    args = engine_args("llama", spec, resolved, placed(spec))

    assert all(flag in args for flag in flags)
    assert [a for a in args if a in ("--dtype", "--quantization")] == flags[:1]
    assert absent not in args


def test_extra_args_come_last_as_written() -> None:
    extra = ["--enable-prefix-caching", "--max-num-seqs", "64"]
    replica = render(llama_8b().set("spec.engine.extraArgs", extra))

    assert replica.args[-3:] == extra
    assert replica.args.index("--shutdown-timeout") < len(replica.args) - 3


# --- flags llamaops owns ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra_args", "conflicts"),
    [
        pytest.param(["--port=9000"], ["--port=9000"], id="--flag=value"),
        pytest.param(["-tp", "2"], ["-tp"], id="a short flag and its value"),
        pytest.param(["--max_model_len", "4096"], ["--max_model_len"], id="underscores"),
        pytest.param(["-q", "awq"], ["-q"], id="-q is --quantization"),
        pytest.param(
            ["--tensor-parallel", "8", "--gpu-memory-util=0.5"],
            ["--tensor-parallel", "--gpu-memory-util=0.5"],
            id="abbreviations",
        ),
        pytest.param(
            ["--enforce-eager", "--served-model-name", "x", "--host=0.0.0.0"],
            ["--served-model-name", "--host=0.0.0.0"],
            id="only the owned ones",
        ),
        pytest.param(
            ["--enable-prefix-caching", "--max-num-seqs", "8", "--portal", "x", "--", "-1"],
            [],
            id="none: a longer flag, --, a negative value",
        ),
    ],
)
def test_owned_flag_conflicts_names_the_words_that_set_owned_flags(
    extra_args: list[str], conflicts: list[str]
) -> None:
    assert owned_flag_conflicts(extra_args) == conflicts


def test_an_owned_flag_in_extra_args_is_refused_as_an_invalid_spec() -> None:
    # Admission's CEL rule refuses this too; the operator does not rely on it.
    spec = LlamaDeploymentSpec.model_validate(
        llama_8b().set("spec.engine.extraArgs", ["--port=9000", "-tp", "2"]).obj()["spec"]
    )

    with pytest.raises(SpecError, match=r"--port=9000, -tp") as refused:
        engine_args("llama", spec, resolve_model(spec.model), placed(spec))
    assert refused.value.field == "spec.engine.extraArgs"


# --- the Hugging Face token -------------------------------------------------------------


def test_the_hugging_face_token_comes_from_its_secret_and_never_in_args() -> None:
    secret = {"name": "hf-token-secret", "key": "hf-key"}
    replica = render(llama_70b().set("spec.model.hfTokenSecretRef", secret))

    assert replica.env("HF_TOKEN") == {
        "name": "HF_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": "hf-token-secret", "key": "hf-key"}},
    }
    assert not any("hf-token-secret" in arg or "hf-key" in arg for arg in replica.args)


def test_without_a_secret_there_is_no_token() -> None:
    assert render(llama_8b()).env("HF_TOKEN") is None


@pytest.mark.parametrize(
    ("user_env", "expected"),
    [
        pytest.param(
            [],
            [{"name": "VLLM_NO_USAGE_STATS", "value": "1"}],
            id="usage stats off by default",
        ),
        pytest.param(
            [{"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"}],
            [
                {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
                {"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"},
            ],
            id="the user's variables follow",
        ),
        pytest.param(
            [{"name": "VLLM_NO_USAGE_STATS", "value": "0"}],
            [{"name": "VLLM_NO_USAGE_STATS", "value": "0"}],
            id="the user may turn usage stats back on",
        ),
        pytest.param(
            [{"name": "HF_TOKEN", "value": "hf_leaked"}],
            [
                {"name": "VLLM_NO_USAGE_STATS", "value": "1"},
                {
                    "name": "HF_TOKEN",
                    "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}},
                },
            ],
            id="the referenced Secret wins over a literal HF_TOKEN",
        ),
    ],
)
def test_the_environment_merges_defaults_the_users_and_the_token(
    user_env: list[dict[str, Any]], expected: list[dict[str, Any]]
) -> None:
    deployment = llama_8b().set("spec.engine.env", user_env)
    if any(variable["name"] == "HF_TOKEN" for variable in user_env):
        deployment.set("spec.model.hfTokenSecretRef", {"name": "hf"})

    assert render(deployment).container["env"] == expected


# --- resources and scheduling -----------------------------------------------------------


def test_the_users_resources_are_kept_and_the_gpu_count_is_ours() -> None:
    resources = {
        "requests": {"cpu": 8, "memory": "64Gi", "nvidia.com/gpu": 1},
        "limits": {"memory": "128Gi"},
    }
    replica = render(llama_70b().set("spec.engine.resources", resources))

    assert replica.container["resources"] == {
        "requests": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "4"},
        "limits": {"memory": "128Gi", "nvidia.com/gpu": "4"},
    }


def test_the_users_scheduling_is_merged_with_the_chosen_product() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                ]
            }
        }
    }
    scheduling = {
        "nodeSelector": {"pool": "inference", "nvidia.com/gpu.product": "NVIDIA-L4"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "llm"}],
        "affinity": affinity,
        "priorityClassName": "serving-high",
    }
    spec = render(llama_70b().set("spec.scheduling", scheduling)).pod["spec"]

    assert spec["nodeSelector"] == {"pool": "inference", "nvidia.com/gpu.product": H100}
    assert spec["tolerations"] == [
        GPU_TOLERATION,
        {"key": "dedicated", "operator": "Equal", "value": "llm"},
    ]
    assert spec["affinity"]["nodeAffinity"] == affinity["nodeAffinity"]
    assert "podAntiAffinity" in spec["affinity"], "the user's affinity keeps the spread"
    assert spec["priorityClassName"] == "serving-high"


def test_without_user_scheduling_replicas_prefer_different_nodes_and_have_no_priority() -> None:
    pod = render(llama_8b()).pod
    spec, labels = pod["spec"], pod["metadata"]["labels"]

    (term,) = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert term["weight"] == 100
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    selector = term["podAffinityTerm"]["labelSelector"]["matchLabels"]
    assert selector == {k: labels[k] for k in selector}, "it selects this deployment's replicas"
    assert "serving.llamaops.io/deployment" in selector
    assert "priorityClassName" not in spec


def test_a_users_pod_anti_affinity_is_kept_as_written() -> None:
    theirs = {"requiredDuringSchedulingIgnoredDuringExecution": []}
    scheduling = {"affinity": {"podAntiAffinity": theirs}}
    spec = render(llama_8b().set("spec.scheduling", scheduling)).pod["spec"]

    assert spec["affinity"] == {"podAntiAffinity": theirs}


def test_dev_shm_is_memory_backed() -> None:
    replica = render(llama_70b())

    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}} in replica.pod[
        "spec"
    ]["volumes"]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in replica.container["volumeMounts"]


# --- drain, grace and probes ------------------------------------------------------------


@pytest.mark.parametrize("drain", [1, 30, 120, 3600])
def test_the_grace_period_outlasts_vllms_drain_by_15_seconds(drain: int) -> None:
    replica = render(llama_8b().rollout(drainTimeoutSeconds=drain))

    assert replica.arg("--shutdown-timeout") == str(drain)
    assert replica.pod["spec"]["terminationGracePeriodSeconds"] == drain + 15


@pytest.mark.parametrize(
    ("readiness_timeout", "failures"),
    [(30, 3), (45, 5), (1800, 180), (86400, 8640)],
)
def test_the_startup_probe_waits_the_readiness_timeout(
    readiness_timeout: int, failures: int
) -> None:
    replica = render(llama_8b().rollout(readinessTimeoutSeconds=readiness_timeout))
    startup = replica.container["startupProbe"]

    assert startup["periodSeconds"] == 10
    assert startup["failureThreshold"] == failures
    assert startup["periodSeconds"] * startup["failureThreshold"] >= readiness_timeout


def test_every_probe_asks_health_on_the_engine_port_and_liveness_is_loose() -> None:
    container = render(llama_8b()).container
    probes = {name: container[f"{name}Probe"] for name in ("startup", "readiness", "liveness")}

    assert all(p["httpGet"] == {"path": "/health", "port": 8000} for p in probes.values())
    assert (probes["readiness"]["periodSeconds"], probes["readiness"]["failureThreshold"]) == (5, 3)
    assert (probes["liveness"]["periodSeconds"], probes["liveness"]["failureThreshold"]) == (15, 5)
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
