"""Pod IPs in 127.0.0.0/8, each used by one pod at a time: every engine gets an address of
its own on the loopback network, as every pod gets one on a cluster's network. Node
addresses come from TEST-NET-1 (192.0.2.0/24): shown in status, never contacted."""

import ipaddress
import random
import socket

POD_NETWORK = ipaddress.ip_network("127.16.0.0/12")  # clear of 127.0.0.1 and its neighbours
NODE_NETWORK = ipaddress.ip_network("192.0.2.0/24")
# Each cluster takes a block of the pod network chosen at random among those whose first
# address nobody serves on, so that two local clusters on one machine (a demo and a test
# run, say) do not share addresses; a cluster of more pods takes another block when one
# is full.
BLOCK_SIZE = 4096
BLOCKS = POD_NETWORK.num_addresses // BLOCK_SIZE


class PodAddresses:
    """Hands out pod IPs; an address returns to the pool only once its pod is gone."""

    def __init__(self, block: int | None = None) -> None:
        chosen = _free_block() if block is None else block % BLOCKS
        self._start = int(POD_NETWORK.network_address) + chosen * BLOCK_SIZE
        self._next = self._start + 1
        self._free: list[int] = []
        self._owner: dict[str, int] = {}  # pod uid -> address

    def take(self, pod_uid: str) -> str:
        if pod_uid in self._owner:
            return str(ipaddress.ip_address(self._owner[pod_uid]))
        if self._free:
            address = self._free.pop(0)
        else:
            if self._next >= self._start + BLOCK_SIZE - 1:  # this block is full: another
                self._start = int(POD_NETWORK.network_address) + _free_block() * BLOCK_SIZE
                self._next = self._start + 1
            address = self._next
            self._next += 1
        self._owner[pod_uid] = address
        return str(ipaddress.ip_address(address))

    def release(self, pod_uid: str) -> None:
        address = self._owner.pop(pod_uid, None)
        if address is not None:
            self._free.append(address)


def node_address(index: int) -> str:
    return str(NODE_NETWORK.network_address + 10 + index)


_taken_in_process: set[int] = set()


def _free_block() -> int:
    """A random block not used by another cluster of this process, whose first address has
    nothing listening on the engines' port 8000 (another process's cluster)."""
    candidates = [b for b in range(BLOCKS) if b not in _taken_in_process]
    random.SystemRandom().shuffle(candidates)
    for block in candidates:
        first = str(POD_NETWORK.network_address + block * BLOCK_SIZE + 1)
        with socket.socket() as probe:
            try:
                probe.bind((first, 8000))
            except OSError:
                continue
        _taken_in_process.add(block)
        return block
    raise RuntimeError("every block of the pod network is in use")
