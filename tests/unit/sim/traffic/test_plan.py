"""Planning: each arrival gets its lengths, from the trace when it has them."""

from llamaops.sim.traffic.lengths import Fixed, Uniform
from llamaops.sim.traffic.plan import PlannedRequest, plan_requests
from llamaops.sim.traffic.shapes import Arrival, constant


def test_every_arrival_gets_lengths_drawn_from_the_distributions() -> None:
    plan = plan_requests(constant(2, 2), Fixed(100), Fixed(10))

    assert plan == [
        PlannedRequest(0.0, 100, 10),
        PlannedRequest(0.5, 100, 10),
        PlannedRequest(1.0, 100, 10),
        PlannedRequest(1.5, 100, 10),
    ]


def test_lengths_from_a_trace_win_over_the_distributions() -> None:
    arrivals = [Arrival(0.0, prompt_tokens=7), Arrival(1.0, output_tokens=3), Arrival(2.0)]

    plan = plan_requests(arrivals, Fixed(100), Fixed(10))

    assert [(p.prompt_tokens, p.output_tokens) for p in plan] == [(7, 10), (100, 3), (100, 10)]


def test_a_seed_repeats_a_plan_and_another_seed_changes_it() -> None:
    arrivals = constant(10, 5)

    def planned(seed: int) -> list[PlannedRequest]:
        return plan_requests(arrivals, Uniform(1, 1000), Uniform(1, 1000), seed=seed)

    assert planned(1) == planned(1)
    assert planned(1) != planned(2)


def test_prompts_and_outputs_are_drawn_independently() -> None:
    plan = plan_requests(constant(10, 5), Uniform(1, 1000), Uniform(1, 1000), seed=3)

    assert [p.prompt_tokens for p in plan] != [p.output_tokens for p in plan]


def test_lengths_a_trace_fixes_leave_the_other_requests_lengths_unchanged() -> None:
    plain = plan_requests([Arrival(0.0), Arrival(1.0)], Uniform(1, 1000), Fixed(1), seed=5)
    fixed_first = plan_requests(
        [Arrival(0.0, prompt_tokens=1), Arrival(1.0)], Uniform(1, 1000), Fixed(1), seed=5
    )

    assert fixed_first[1] == plain[1]
