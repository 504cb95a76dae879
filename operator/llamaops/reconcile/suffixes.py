"""Suffixes of replica pod names, in the alphabet Kubernetes uses for generated names
(no vowels, so no words; no 0/1/3 that read as letters).

The planner takes an iterator of them. `suffixes_at(now)` is its default: the same clock
gives the same names, so a test can predict them. The runtime passes `random_suffixes()`,
so that two operators (or one restarted mid-reconcile) never pick the same name twice.
"""

import hashlib
import secrets
from collections.abc import Iterator, Set
from datetime import datetime
from itertools import count

from llamaops.reconcile.rendering import replica_name

ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
LENGTH = 5


def suffixes_at(now: datetime) -> Iterator[str]:
    """Deterministic suffixes: a digest of the clock and an index."""
    for index in count():
        digest = hashlib.sha256(f"{now.isoformat()}/{index}".encode()).digest()
        yield "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:LENGTH])


def random_suffixes() -> Iterator[str]:
    """Random suffixes, as the API server's generateName makes them."""
    while True:
        yield "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def unused_name(suffixes: Iterator[str], deployment: str, template: str, taken: Set[str]) -> str:
    """The first replica pod name from `suffixes` that no pod has."""
    for suffix in suffixes:
        name = replica_name(deployment, template, suffix)
        if name not in taken:
            return name
    raise ValueError("the pod-name suffixes ran out")
