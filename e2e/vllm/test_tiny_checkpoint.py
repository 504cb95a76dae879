"""The tiny checkpoints and the manifest that serves them say the same shape: the
manifest's spec.model.architecture is what tiny_checkpoint.py writes into config.json, and
its parameter count is the model's (the operator sizes weights from it)."""

import json

from e2e.vllm.cpu_world import CHECKPOINTS, require_vllm_env, tiny_manifest
from e2e.vllm.tiny_checkpoint import ARCHITECTURE


def llama_parameters(shape: dict[str, int]) -> int:
    """Embeddings and output head, per layer attention, MLP and two norms, a final norm."""
    hidden, head = shape["hidden_size"], shape["head_dim"]
    attention = 2 * hidden * shape["num_attention_heads"] * head
    attention += 2 * hidden * shape["num_key_value_heads"] * head
    layer = attention + 3 * hidden * shape["intermediate_size"] + 2 * hidden
    return 2 * shape["vocab_size"] * hidden + shape["num_hidden_layers"] * layer + hidden


def test_the_manifest_declares_the_checkpoints_architecture() -> None:
    declared = tiny_manifest()["spec"]["model"]["architecture"]
    camel = {
        "".join(w.title() if i else w for i, w in enumerate(k.split("_"))): v
        for k, v in ARCHITECTURE.items()
    }
    assert {k: v for k, v in declared.items() if k != "parameters"} == camel
    assert declared["parameters"] == llama_parameters(ARCHITECTURE) == 1_016_448


def test_the_written_checkpoints_have_that_shape() -> None:
    require_vllm_env()
    for name in ("tiny-a", "tiny-b"):
        config = json.loads((CHECKPOINTS / name / "config.json").read_text())
        assert {k: config[k] for k in ARCHITECTURE} == ARCHITECTURE, name
    broken = json.loads((CHECKPOINTS / "tiny-broken" / "config.json").read_text())
    assert broken["intermediate_size"] != ARCHITECTURE["intermediate_size"]
