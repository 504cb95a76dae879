"""Write a tiny random Llama that the real vLLM (CPU build) loads in seconds.

    .venv-vllm/bin/python e2e/vllm/tiny_checkpoint.py OUT_DIR --seed N [--broken]

OUT_DIR gets what `vllm serve OUT_DIR` reads: config.json, generation_config.json, the
weights as model.safetensors (random, from `--seed`), and a byte-level BPE tokenizer
(tokenizer.json, tokenizer_config.json with a chat template) trained on a few fixed
sentences, so no hub is ever asked. Two seeds give two checkpoints of identical shape whose
greedy answers to the same prompt differ: a rollout can tell which one served.

The shape keeps vLLM's CPU attention happy: its kernels support head sizes 32, 64, 80, ...
(16 starts but crashes on the first request), so 4 heads of 32 over a hidden size of 128.
`--broken` writes a checkpoint whose weights do not match its config.json: vLLM starts,
fails while loading the weights, and exits non-zero, as a bad upload would.

Runs in the vLLM virtualenv (it needs torch, transformers and tokenizers).
"""

import argparse
import json
import sys
from pathlib import Path

# The shape e2e/vllm/tiny-llama.yaml declares in spec.model.architecture (kept in step by
# e2e/vllm/test_tiny_checkpoint.py, which also checks the config.json written here).
ARCHITECTURE = {
    "hidden_size": 128,
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 32,
    "vocab_size": 2048,
    "max_position_embeddings": 512,
}
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Llamas graze on the high plains of the Andes.",
    "A tensor-parallel replica serves requests from its queue.",
    "Checkpoints roll from one revision to the next without a dropped request.",
    "Hello, world! How are you today? I am fine, thank you.",
    "0 1 2 3 4 5 6 7 8 9 ten eleven twelve",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|pad|>"]


# torch, transformers and tokenizers are imported where used: the operator's tests read
# ARCHITECTURE from this module in a virtualenv that has none of them.
def write_tokenizer(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers  # noqa: PLC0415
    from transformers import PreTrainedTokenizerFast  # noqa: PLC0415

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=ARCHITECTURE["vocab_size"],
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS, trainer=trainer)
    # A few sentences give far fewer merges than the model's vocabulary: fill the rest
    # with plain tokens, so every id a random model picks decodes to some text.
    filler = ARCHITECTURE["vocab_size"] - tokenizer.get_vocab_size()
    tokenizer.add_tokens([f"<w{index}>" for index in range(filler)])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=SPECIAL[0],
        eos_token=SPECIAL[1],
        pad_token=SPECIAL[2],
        model_max_length=ARCHITECTURE["max_position_embeddings"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)


def write_model(out: Path, seed: int, broken: bool) -> None:
    import torch  # noqa: PLC0415
    from transformers import LlamaConfig, LlamaForCausalLM  # noqa: PLC0415

    torch.manual_seed(seed)
    config = LlamaConfig(
        **ARCHITECTURE,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=2,
        tie_word_embeddings=False,
        torch_dtype="float32",
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # wider than the default init, so greedy answers vary by seed
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
    model.save_pretrained(out, safe_serialization=True)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    if broken:  # the weights stay; the config now promises a wider model than they hold
        config_path = out / "config.json"
        config_json = json.loads(config_path.read_text())
        config_json["intermediate_size"] = ARCHITECTURE["intermediate_size"] * 2
        config_path.write_text(json.dumps(config_json, indent=2))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="directory to write the checkpoint into")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    parser.add_argument("--broken", action="store_true", help="write one that fails to load")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    write_tokenizer(args.out)
    write_model(args.out, args.seed, args.broken)
    print(f"Wrote {'a broken' if args.broken else 'a'} tiny Llama (seed {args.seed}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
