"""The chaos runs' timelines: replayable from their seed, and each holding what the suite
promises (every scenario once, then the delete; the kills; one node fault; the faults
within the run)."""

import pytest

from e2e.chaos.schedule import KILLS_PER_RUN, SCENARIOS, run_of


def test_a_seed_replays_and_seeds_differ() -> None:
    assert run_of(5, 60) == run_of(5, 60)
    assert run_of(5, 60) != run_of(6, 60)


@pytest.mark.parametrize("number", range(20))
def test_every_run_holds_what_the_suite_promises(number: int) -> None:
    run = run_of(number, 60)

    assert sorted(s.kind for s in run.steps[:-1]) == sorted(SCENARIOS)
    assert run.steps[-1].kind == "delete"
    assert run.kills == KILLS_PER_RUN
    kinds = [f.kind for f in run.faults]
    assert sum(k in ("lose-node", "drain-node") for k in kinds) == 1
    assert {"close", "expire"} <= set(kinds)
    assert all(0 <= f.at <= 60 for f in run.faults)
    assert [f.at for f in run.faults] == sorted(f.at for f in run.faults)
    assert all(1 <= s.value <= 4 for s in run.steps if s.kind == "scale")
