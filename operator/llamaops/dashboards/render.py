"""Every llamaops dashboard as the JSON file Grafana provisions: `<uid>.json`, keys sorted,
indented by two, ending in a newline, so the same code always writes the same bytes.
"""

from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards import deployment, fleet, operator_health

DASHBOARDS: tuple[Callable[[], model.Dashboard], ...] = (
    fleet.dashboard,
    deployment.dashboard,
    operator_health.dashboard,
)


def file_name(board: model.Dashboard) -> str:
    if not board.uid:
        raise ValueError(f"Dashboard {board.title!r} has no uid to name its file after")
    return f"{board.uid}.json"


def encoded(board: model.Dashboard) -> str:
    return JSONEncoder(sort_keys=True, indent=2).encode(board) + "\n"


def rendered() -> dict[str, str]:
    """File name -> content, for every dashboard."""
    boards = [build() for build in DASHBOARDS]
    return {file_name(board): encoded(board) for board in boards}


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in rendered().items():
        path = folder / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
