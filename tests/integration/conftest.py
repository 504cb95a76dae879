"""Fixtures that start the local cluster's API emulator in this process."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from llamaops.sim.apiserver.background import BackgroundApiServer


@pytest.fixture
def apiserver(tmp_path: Path) -> Iterator[BackgroundApiServer]:
    """A fresh API emulator on a free port, with a kubeconfig at `apiserver.kubeconfig`."""
    with BackgroundApiServer(kubeconfig=tmp_path / "kubeconfig", bookmark_interval=1.0) as server:
        yield server
