"""The requests of a run: each arrival given its prompt and output lengths.

Pure. Lengths a replayed trace carries win; the others are drawn from the distributions,
from one seeded stream each for prompts and outputs, so a seed repeats a run exactly.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass

from llamaops.sim.traffic.lengths import Length
from llamaops.sim.traffic.shapes import Arrival


@dataclass(frozen=True)
class PlannedRequest:
    """Send a prompt of about `prompt_tokens` at `offset`, asking for `output_tokens`."""

    offset: float
    prompt_tokens: int
    output_tokens: int


def plan_requests(
    arrivals: Iterable[Arrival], prompt: Length, output: Length, *, seed: int = 0
) -> list[PlannedRequest]:
    prompt_rng = random.Random(f"{seed}/prompt")
    output_rng = random.Random(f"{seed}/output")
    planned = []
    for arrival in arrivals:
        # Draw for every arrival, so a trace that fixes some lengths leaves the rest alone.
        drawn_prompt, drawn_output = prompt.draw(prompt_rng), output.draw(output_rng)
        planned.append(
            PlannedRequest(
                arrival.offset,
                arrival.prompt_tokens if arrival.prompt_tokens is not None else drawn_prompt,
                arrival.output_tokens if arrival.output_tokens is not None else drawn_output,
            )
        )
    return planned
