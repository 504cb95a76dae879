"""A share of one client's writes refused at random, the same way for the same seed."""

from llamaops.sim.apiserver.faults import FlakyWrites

OPERATOR = ("llamaops/", "kopf/")


def refusals(seed: int, agent: str = "llamaops/0.1.0", verb: str = "patch") -> list[int | None]:
    flaky = FlakyWrites(0.1, (409, 500), OPERATOR, seed)
    return [flaky.code_for(verb, agent) for _ in range(2000)]


def test_about_the_share_of_writes_is_refused_with_the_codes_given() -> None:
    codes = [c for c in refusals(7) if c is not None]

    assert 150 <= len(codes) <= 250
    assert set(codes) == {409, 500}


def test_a_seed_replays_and_another_differs() -> None:
    assert refusals(7) == refusals(7)
    assert refusals(7) != refusals(8)


def test_reads_and_other_clients_are_never_refused() -> None:
    assert set(refusals(7, verb="get")) == {None}
    assert set(refusals(7, verb="watch")) == {None}
    assert set(refusals(7, agent="kubectl/v1.30.0")) == {None}
