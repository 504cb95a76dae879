"""The autoscaler's policy: spec.autoscaling, and what one replica runs at once (vLLM's
--max-num-seqs, from engine.extraArgs)."""

from typing import Any

import pytest

from llamaops.api.spec import LlamaDeploymentSpec
from llamaops.autoscaling.policy import DEFAULT_MAX_NUM_SEQS, Policy, max_num_seqs, policy_of


def spec(**fields: Any) -> LlamaDeploymentSpec:
    """A spec as a user writes it (camelCase), serving Llama 3.1 8B."""
    return LlamaDeploymentSpec.model_validate({"model": {"name": "llama3.1-8b-instruct"}} | fields)


@pytest.mark.parametrize(
    ("extra_args", "expected"),
    [
        pytest.param(["--max-num-seqs", "8"], 8, id="--max-num-seqs 8 is 8"),
        pytest.param(["--max-num-seqs=8"], 8, id="--max-num-seqs=8 is 8"),
        pytest.param(
            ["--enforce-eager", "--max-num-seqs", "64", "--seed", "1"],
            64,
            id="--max-num-seqs 64 among other flags is 64",
        ),
        pytest.param([], DEFAULT_MAX_NUM_SEQS, id="no extra arguments are vLLM's default 256"),
        pytest.param(
            ["--enforce-eager"], DEFAULT_MAX_NUM_SEQS, id="other flags only are the default"
        ),
        pytest.param(
            ["--max-num-seqs"], DEFAULT_MAX_NUM_SEQS, id="the flag without a value is the default"
        ),
        pytest.param(
            ["--max-num-seqs=0"], DEFAULT_MAX_NUM_SEQS, id="a value of 0 is ignored for the default"
        ),
        pytest.param(
            ["--max-num-seqs", "many"], DEFAULT_MAX_NUM_SEQS, id="a word is ignored for the default"
        ),
        pytest.param(
            ["--max-num-seqs-per-step=4"],
            DEFAULT_MAX_NUM_SEQS,
            id="a longer flag sharing the prefix is not --max-num-seqs",
        ),
    ],
)
def test_one_replica_runs_what_max_num_seqs_says(extra_args: list[str], expected: int) -> None:
    assert DEFAULT_MAX_NUM_SEQS == 256
    assert max_num_seqs(extra_args) == expected


def test_the_policy_is_read_from_spec_autoscaling_and_the_engine_arguments() -> None:
    deployment = spec(
        autoscaling={
            "enabled": True,
            "minReplicas": 2,
            "maxReplicas": 8,
            "targetQueueDepth": 6,
            "tolerance": 0.2,
            "scaleUpStabilizationSeconds": 30,
            "scaleDownStabilizationSeconds": 600,
            "scaleUpLimit": 3,
            "scaleDownLimit": 2,
        },
        engine={"extraArgs": ["--max-num-seqs=32"]},
    )

    assert policy_of(deployment) == Policy(
        min_replicas=2,
        max_replicas=8,
        target_queue_depth=6,
        tolerance=0.2,
        scale_up_window=30,
        scale_down_window=600,
        scale_up_limit=3,
        scale_down_limit=2,
        max_num_seqs=32,
    )


def test_the_defaults_are_hpas_and_vllms() -> None:
    policy = policy_of(spec(autoscaling={"enabled": True, "maxReplicas": 4}))

    assert policy == Policy(
        min_replicas=1,
        max_replicas=4,
        target_queue_depth=4,
        tolerance=0.1,
        scale_up_window=0,
        scale_down_window=300,
        scale_up_limit=None,
        scale_down_limit=1,
        max_num_seqs=256,
    )


def test_without_max_replicas_the_policy_stays_at_min_replicas() -> None:
    policy = policy_of(spec(autoscaling={"minReplicas": 3}))

    assert (policy.min_replicas, policy.max_replicas) == (3, 3)


@pytest.mark.parametrize(
    ("up", "down", "keep"),
    [
        pytest.param(0, 300, 300, id="the window keeps 300 s for a 300 s scale-down window"),
        pytest.param(900, 300, 900, id="the window keeps 900 s for a 900 s scale-up window"),
    ],
)
def test_the_window_reaches_back_the_longer_stabilization(up: int, down: int, keep: int) -> None:
    policy = Policy(
        min_replicas=1,
        max_replicas=4,
        target_queue_depth=4,
        scale_up_window=up,
        scale_down_window=down,
    )

    assert policy.keep_seconds == keep
