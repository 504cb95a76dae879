"""Pod addresses: one per live pod, reused once a pod is gone, and more than a block's
worth for a cluster of thousands of pods."""

from llamaops.sim.cluster.addresses import BLOCK_SIZE, PodAddresses


def test_every_live_pod_has_its_own_address_past_one_block() -> None:
    addresses = PodAddresses()

    taken = [addresses.take(f"pod-{i}") for i in range(BLOCK_SIZE * 2 + 10)]

    assert len(set(taken)) == len(taken)
    assert all(ip.startswith("127.") for ip in taken)


def test_an_address_comes_back_once_its_pod_is_gone_and_a_pod_keeps_its_own() -> None:
    addresses = PodAddresses()
    first = addresses.take("a")

    assert addresses.take("a") == first
    addresses.release("a")
    assert addresses.take("b") == first
