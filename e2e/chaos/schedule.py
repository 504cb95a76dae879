"""A chaos run's timeline, drawn from its seed: the operator's scenarios in a random order,
and faults at random moments among them. Pure: the same seed gives the same run, so a
failing seed replays (`pytest e2e/chaos --chaos-seeds 17`).

Scenarios (one LlamaDeployment, under steady traffic, each step waits for its end state
up to the convergence limit, faults or not):
    scale      to 1..4 replicas
    rollout    to a new checkpoint revision (canary, warm-up, drains)
    bad        to a checkpoint that cannot load: the rollout halts, then is reverted
    autoscale  autoscaling on, a burst, back to idle, autoscaling off
and then `delete`: every replica drained and gone, nothing orphaned.

Faults, each at a random moment of the run (seconds after its start):
    kill       SIGKILL the operator, start it again after 0..2 s      (KILLS_PER_RUN)
    close      every watch closed by the server (a restart of it)
    expire     every watch's version expired (410 Gone, history compacted)
    lose-node  a node holding a replica stops; it comes back after 15..25 s
    drain-node a node holding a replica drained through the PodDisruptionBudget,
               uncordoned after
One node fault per run, lost or drained: with both at once, a 3-node cluster could not
hold the replicas.
"""

import random
from dataclasses import dataclass

SCENARIOS = ("scale", "rollout", "bad", "autoscale")
KILLS_PER_RUN = 8
FLAKY_SHARE = 0.1


@dataclass(frozen=True)
class Fault:
    at: float  # seconds after the run starts
    kind: str  # kill, close, expire, lose-node, drain-node
    lasts: float = 0.0  # kill: down time; lose-node: how long; drain-node: its timeout


@dataclass(frozen=True)
class Step:
    kind: str  # a scenario, or "delete"
    value: int = 0  # scale: the replicas; rollout/bad: the revision's number


@dataclass(frozen=True)
class Run:
    seed: int
    steps: tuple[Step, ...]
    faults: tuple[Fault, ...]  # by time
    seconds: float  # the faults' span (writes flaky throughout)

    @property
    def kills(self) -> int:
        return sum(f.kind == "kill" for f in self.faults)

    def describe(self) -> str:
        steps = ", ".join(f"{s.kind} {s.value}" if s.value else s.kind for s in self.steps)
        faults = ", ".join(f"{f.kind}@{f.at:.1f}" for f in self.faults)
        return f"seed {self.seed}: {steps} | {faults}"


def run_of(seed: int, seconds: float, kills: int = KILLS_PER_RUN) -> Run:
    """The run for `seed`: its steps, and faults spread over its first `seconds`."""
    draw = random.Random(seed)
    order = list(SCENARIOS)
    draw.shuffle(order)
    steps = [Step(kind, _value(kind, draw, index)) for index, kind in enumerate(order)]
    faults = [Fault(draw.uniform(0, seconds), "kill", draw.uniform(0.0, 2.0)) for _ in range(kills)]
    faults += [Fault(draw.uniform(0, seconds), kind) for kind in ("close", "expire")]
    node_fault = draw.choice(("lose-node", "drain-node"))
    faults.append(
        Fault(draw.uniform(0.2 * seconds, 0.8 * seconds), node_fault, draw.uniform(15, 25))
    )
    ordered = tuple(sorted(faults, key=lambda f: f.at))
    return Run(seed, (*steps, Step("delete")), ordered, seconds)


def _value(kind: str, draw: random.Random, index: int) -> int:
    if kind == "scale":
        return draw.randint(1, 4)
    if kind in ("rollout", "bad"):
        return index + 1
    return 0
