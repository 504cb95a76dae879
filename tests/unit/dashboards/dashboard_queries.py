"""The dashboards as the generator renders them (parsed JSON), and every query in them,
each named by where it sits, for the dashboard tests."""

import json
import re
from dataclasses import dataclass
from typing import Any

from llamaops.dashboards.render import rendered

Board = dict[str, Any]
LABEL_VALUES = re.compile(r"label_values\((?P<selector>.+),\s*(?P<label>\w+)\)")
LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Query:
    board: str  # the dashboard's uid
    where: str  # "panel 'Title' A", "annotation 'Name'", "variable 'name'"
    expr: str
    legend: str = ""

    def __str__(self) -> str:
        return f"{self.board}: {self.where}"

    @property
    def legend_labels(self) -> set[str]:
        return set(LEGEND_LABEL.findall(self.legend))


def boards() -> dict[str, Board]:
    """uid -> dashboard, as the generator renders it now."""
    parsed = [json.loads(content) for content in rendered().values()]
    return {board["uid"]: board for board in parsed}


def panels(board: Board) -> list[dict[str, Any]]:
    """Every panel but rows, including those inside collapsed rows."""
    found = []
    for panel in board.get("panels", []):
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def panel_queries(board: Board) -> list[Query]:
    found = []
    for panel in panels(board):
        for target in panel.get("targets", []):
            where = f"panel {panel['title']!r} {target.get('refId', '?')}"
            legend = target.get("legendFormat", "")
            found.append(Query(board["uid"], where, target.get("expr", ""), legend))
    return found


def annotation_queries(board: Board) -> list[Query]:
    """Both places a Prometheus annotation holds its query: `expr` and `target.expr`."""
    found = []
    for annotation in board.get("annotations", {}).get("list", []):
        where = f"annotation {annotation['name']!r}"
        if "expr" in annotation:
            found.append(Query(board["uid"], where, annotation["expr"]))
        if "expr" in annotation.get("target", {}):
            found.append(Query(board["uid"], f"{where} target", annotation["target"]["expr"]))
    return found


def variable_queries(board: Board) -> list[Query]:
    """The selector inside each `label_values(selector, label)` variable query."""
    found = []
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] != "query":
            continue
        match = LABEL_VALUES.fullmatch(variable["query"])
        if not match:
            raise ValueError(f"Variable {variable['name']!r}: not label_values(…, label)")
        found.append(Query(board["uid"], f"variable {variable['name']!r}", match["selector"]))
    return found


def all_queries() -> list[Query]:
    return [
        query
        for board in boards().values()
        for queries in (panel_queries(board), annotation_queries(board), variable_queries(board))
        for query in queries
    ]
