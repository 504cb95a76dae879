"""`llamaops rollout status`'s verdict from a LlamaDeployment: complete, halted, or going."""

from typing import Any

import pytest

from llamaops.cli.main import main
from llamaops.cli.rollout import judged


def a_deployment(reason: str, status: str = "True", **fields: Any) -> dict[str, Any]:
    observed = {
        "observedGeneration": 3,
        "updatedReplicas": 4,
        "readyReplicas": 4,
        "conditions": [{"type": "Progressing", "status": status, "reason": reason, "message": "m"}],
        **fields,
    }
    return {
        "metadata": {"name": "llama", "generation": 3},
        "spec": {"replicas": 4},
        "status": observed,
    }


@pytest.mark.parametrize(
    ("found", "verdict"),
    [
        pytest.param(a_deployment("Complete", "False"), 0, id="complete"),
        pytest.param(a_deployment("RollingOut"), None, id="rolling"),
        pytest.param(a_deployment("Complete", "False", updatedReplicas=3), None, id="not all"),
        pytest.param(
            a_deployment("Complete", "False", observedGeneration=2), None, id="an older spec"
        ),
        pytest.param(a_deployment("WarmupFailed", "False"), 1, id="halted: warm-up"),
        pytest.param(a_deployment("ReplicaCrashLooping", "False"), 1, id="halted: crash loop"),
        pytest.param(a_deployment("RolloutBlocked", "False"), None, id="blocked: waits"),
    ],
)
def test_the_verdict(found: dict[str, Any], verdict: int | None) -> None:
    assert judged(found)[0] == verdict


def test_a_missing_kubeconfig_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["rollout", "status", "llama", "--kubeconfig", "/no/such/file"])

    assert code == 2
    assert "--kubeconfig: /no/such/file is not a file" in capsys.readouterr().err
