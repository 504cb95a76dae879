"""Pod IPs in 127.0.0.0/8, each used by one pod at a time: every engine gets an address of
its own on the loopback network, as every pod gets one on a cluster's network. Node
addresses come from TEST-NET-1 (192.0.2.0/24): shown in status, never contacted."""

import ipaddress

POD_NETWORK = ipaddress.ip_network("127.16.0.0/12")  # clear of 127.0.0.1 and its neighbours
NODE_NETWORK = ipaddress.ip_network("192.0.2.0/24")


class PodAddresses:
    """Hands out pod IPs; an address returns to the pool only once its pod is gone."""

    def __init__(self) -> None:
        self._next = int(POD_NETWORK.network_address) + 1
        self._free: list[int] = []
        self._owner: dict[str, int] = {}  # pod uid -> address

    def take(self, pod_uid: str) -> str:
        if pod_uid in self._owner:
            return str(ipaddress.ip_address(self._owner[pod_uid]))
        if self._free:
            address = self._free.pop(0)
        else:
            address = self._next
            self._next += 1
            if address >= int(POD_NETWORK.broadcast_address):
                raise RuntimeError("pod network exhausted")
        self._owner[pod_uid] = address
        return str(ipaddress.ip_address(address))

    def release(self, pod_uid: str) -> None:
        address = self._owner.pop(pod_uid, None)
        if address is not None:
            self._free.append(address)


def node_address(index: int) -> str:
    return str(NODE_NETWORK.network_address + 10 + index)
