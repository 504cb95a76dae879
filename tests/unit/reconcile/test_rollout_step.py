"""The rollout's step math (reconcile/rollout.py), as a table: what one reconcile creates
and drains for each mix of old and new replicas, surge, unavailability and free GPUs."""

from datetime import UTC, datetime, timedelta

import pytest

from llamaops.reconcile import reasons
from llamaops.reconcile.observed import ReplicaPod
from llamaops.reconcile.rollout import Bounds, World, bounds, step

NOW = datetime(2026, 12, 4, 14, 0, tzinfo=UTC)


def pod(
    name: str,
    *,
    ready: bool = True,
    serving: bool = True,
    in_flight: int = 0,
    warmup: str | None = None,
    crash_looping: bool = False,
    age: float = 600,
) -> ReplicaPod:
    return ReplicaPod(
        name=name,
        uid=name,
        created=NOW - timedelta(seconds=age),
        template_hash="new" if name.startswith("new") else "old",
        checkpoint="c",
        serving=serving,
        ready=ready,
        terminating=False,
        failed=False,
        scheduled=True,
        crash_looping=crash_looping,
        in_flight=in_flight,
        warmup=warmup,
    )


def old(n: int, in_flight: list[int] | None = None) -> tuple[ReplicaPod, ...]:
    loads = in_flight or [0] * n
    return tuple(pod(f"old-{i}", in_flight=loads[i]) for i in range(n))


LOADING = pod("new-0", ready=False, serving=False, warmup="pending", age=30)
WARMING = pod("new-0", serving=False, warmup="pending")
SERVING = pod("new-0", warmup="passed")


def world(
    olds: tuple[ReplicaPod, ...],
    news: tuple[ReplicaPod, ...] = (),
    *,
    wanted: int = 4,
    surge: int = 1,
    unavailable: int = 0,
    room: int = 4,
    leaving: int = 0,
    paused: bool = False,
) -> World:
    return World(wanted, Bounds(surge, unavailable), olds, news, leaving, room, 1800, paused)


@pytest.mark.parametrize(
    ("the_world", "create", "drain"),
    [
        pytest.param(world(old(4)), 1, [], id="first the canary, one surge replica"),
        pytest.param(
            world(old(4), surge=3), 1, [], id="only one canary even when the surge allows more"
        ),
        pytest.param(world(old(4), (LOADING,)), 0, [], id="the canary loads: nothing else"),
        pytest.param(world(old(4), (WARMING,)), 0, [], id="ready but not warmed up: old ones stay"),
        pytest.param(
            world(old(4, [5, 1, 3, 2]), (SERVING,)),
            0,
            ["old-1"],
            id="canary serves: the least loaded old one drains",
        ),
        pytest.param(
            world(old(3), (SERVING,), leaving=1),
            0,
            [],
            id="while it drains, its GPUs count toward the surge",
        ),
        pytest.param(world(old(3), (SERVING,)), 1, [], id="drained: the next new replica"),
        pytest.param(
            world(old(4, [0, 1, 2, 3]), (SERVING,), surge=2, unavailable=1),
            1,
            ["old-0", "old-1"],
            id="surge 2, unavailable 1: one more new, two old go",
        ),
        pytest.param(
            world(old(4), room=0, unavailable=1, surge=0),
            0,
            ["old-0"],
            id="no GPUs, unavailable 1: an old one drains first to make room for the canary",
        ),
        pytest.param(
            world(old(4), room=0, unavailable=1, surge=1),
            0,
            ["old-0"],
            id="no GPUs for the surge: in place instead",
        ),
        pytest.param(
            world(old(3), room=1, unavailable=1, surge=0, leaving=1),
            0,
            [],
            id="the freed GPUs come once the drain ends (it still counts)",
        ),
        pytest.param(
            world(old(3), room=1, unavailable=1, surge=0),
            1,
            [],
            id="drained: the canary on the GPUs it freed",
        ),
        pytest.param(
            world(old(4), (SERVING,), wanted=2),
            0,
            ["old-0", "old-1", "old-2"],
            id="scaled down mid-rollout: old replicas go first",
        ),
        pytest.param(world(old(4), paused=True), 0, [], id="paused: no step"),
        pytest.param(
            world(old(4, [3, 0, 1, 2]), wanted=1, room=0),
            0,
            ["old-1", "old-2", "old-3"],
            id="scaled down before the canary: the extras go, least loaded first",
        ),
        pytest.param(
            world(old(4), (LOADING,), wanted=1),
            0,
            ["old-0", "old-1", "old-2"],
            id="scaled down while the canary loads: one old replica keeps serving",
        ),
    ],
)
def test_a_rollout_step(the_world: World, create: int, drain: list[str]) -> None:
    result = step(the_world, NOW)

    assert (result.create, [p.name for p in result.drain]) == (create, drain)
    assert result.failed is None


def test_ready_replicas_never_fall_below_wanted_minus_unavailable() -> None:
    # Each drained replica is gone by the next step and each new one serves at once.
    for unavailable in (0, 1, 2):
        olds: list[ReplicaPod] = list(old(4))
        news: list[ReplicaPod] = []
        for _ in range(40):
            result = step(world(tuple(olds), tuple(news), unavailable=unavailable), NOW)
            olds = [p for p in olds if p not in result.drain]
            ready = len(olds) + sum(p.serving for p in news)
            assert ready >= 4 - unavailable, (unavailable, olds, news)
            news += [pod(f"new-{len(news)}", warmup="passed") for _ in range(result.create)]
        assert not olds and len(news) == 4, (unavailable, olds, news)


def test_no_gpu_for_a_surge_replica_and_no_unavailability_is_blocked() -> None:
    result = step(world(old(4), room=0), NOW)

    assert result.blocked and result.create == 0 and not result.drain


@pytest.mark.parametrize(
    ("new", "reason", "says"),
    [
        pytest.param(
            pod("new-0", ready=False, crash_looping=True),
            reasons.REPLICA_CRASH_LOOPING,
            "crash-loops",
            id="crash loop",
        ),
        pytest.param(
            pod("new-0", ready=False, serving=False, warmup="pending", age=1900),
            reasons.PROGRESS_DEADLINE_EXCEEDED,
            "not ready 1800 s after creation",
            id="not ready in time",
        ),
        pytest.param(
            pod("new-0", serving=False, warmup="failed: HTTP 500: boom"),
            reasons.WARMUP_FAILED,
            "failed its warm-up completion: HTTP 500: boom",
            id="failed warm-up",
        ),
    ],
)
def test_a_failing_new_replica_halts_the_rollout_and_removes_the_new_ones(
    new: ReplicaPod, reason: str, says: str
) -> None:
    result = step(world(old(4), (new,)), NOW)

    assert result.failed is not None
    assert result.failed[0] == reason and says in result.failed[1]
    assert result.remove == (new,) and result.create == 0 and not result.drain


@pytest.mark.parametrize(
    ("surge", "unavailable", "wanted", "expected"),
    [
        (1, 0, 4, Bounds(1, 0)),
        ("25%", "25%", 4, Bounds(1, 1)),
        ("10%", "10%", 4, Bounds(1, 0)),  # surge rounds up, unavailable down
        ("0%", "10%", 4, Bounds(0, 1)),  # both 0 would never move: one may go
    ],
)
def test_surge_and_unavailable_as_counts(
    surge: int | str, unavailable: int | str, wanted: int, expected: Bounds
) -> None:
    assert bounds(surge, unavailable, wanted) == expected
