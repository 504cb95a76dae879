"""`llamaops demo --preview`'s pure parts: which panels it draws, how Grafana's variables
are set and substituted, how series are named, and a drawing from canned answers."""

import math
from pathlib import Path
from typing import Any

import pytest

from llamaops.cli.dashboard_preview import (
    Drawn,
    Panel,
    Target,
    described,
    grafana_variables,
    legend,
    preview,
    query_step,
    read_board,
    require_preview,
    series_of,
    substitute,
    time_series_panels,
)
from llamaops.cli.usage import UsageError
from tests.chart.render import CHART

DEPLOYMENT_BOARD = CHART / "dashboards" / "llamaops-deployment.json"
Obj = dict[str, Any]


def a_panel(kind: str, title: str, *exprs: str, **defaults: Any) -> Obj:
    return {
        "type": kind,
        "title": title,
        "fieldConfig": {"defaults": defaults},
        "targets": [{"expr": e, "legendFormat": f"{{{{pod}}}} {i}"} for i, e in enumerate(exprs)],
    }


def a_row(title: str, *panels: Obj) -> Obj:
    """A collapsed row holds its panels; an open one has none (they follow it)."""
    return {"type": "row", "title": title, "panels": list(panels)}


@pytest.mark.parametrize(
    ("panels", "titles"),
    [
        pytest.param([a_panel("timeseries", "A", "up")], ["A"], id="one"),
        pytest.param(
            [a_row("open"), a_panel("timeseries", "A", "up"), a_panel("timeseries", "B", "up")],
            ["A", "B"],
            id="after an open row, in order",
        ),
        pytest.param(
            [a_row("collapsed", a_panel("timeseries", "A", "up")), a_panel("timeseries", "B", "x")],
            ["A", "B"],
            id="inside a collapsed row",
        ),
        pytest.param(
            [
                a_panel("stat", "S", "up"),
                a_panel("state-timeline", "T", "up"),
                a_panel("timeseries", "A", "up"),
            ],
            ["A"],
            id="stats and state timelines left out",
        ),
        pytest.param([], [], id="none"),
    ],
)
def test_the_panels_drawn_are_the_time_series_in_order(
    panels: list[Obj], titles: list[str]
) -> None:
    assert [p.title for p in time_series_panels({"panels": panels})] == titles


def test_a_panel_keeps_its_unit_bounds_axis_label_interpolation_and_legends() -> None:
    board = {
        "panels": [
            {
                **a_panel("timeseries", "KV", "a", "b", unit="percentunit", min=0, max=1),
                "fieldConfig": {
                    "defaults": {
                        "unit": "percentunit",
                        "min": 0,
                        "max": 1,
                        "custom": {"lineInterpolation": "stepAfter", "axisLabel": "kv"},
                    }
                },
            }
        ]
    }

    (panel,) = time_series_panels(board)

    assert panel == Panel(
        "KV",
        "percentunit",
        (Target("a", "{{pod}} 0"), Target("b", "{{pod}} 1")),
        axis_label="kv",
        minimum=0,
        maximum=1,
        steps=True,
    )


def test_the_generated_deployment_board_gives_fifteen_panels_with_every_variable_set() -> None:
    panels = time_series_panels(read_board(DEPLOYMENT_BOARD))
    variables = grafana_variables("default", "llama3-70b", 1, 1)

    assert len(panels) == 15
    assert panels[0].title == "Replicas: desired, ready, updated"
    assert all(p.targets for p in panels)
    for panel in panels:
        for target in panel.targets:
            assert "$" not in substitute(target.expr, variables), (panel.title, target.expr)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        pytest.param('x{namespace="$namespace"}', 'x{namespace="team-a"}', id="$name"),
        pytest.param('x{deployment="${deployment}"}', 'x{deployment="llama"}', id="${name}"),
        pytest.param("rate(x[$__rate_interval])", "rate(x[4s])", id="rate interval"),
        pytest.param("changes(x[$__interval])", "changes(x[1s])", id="interval"),
        pytest.param("x[$__range]", "x[$__range]", id="unknown: kept"),
        pytest.param('x{n="$namespaces"}', 'x{n="$namespaces"}', id="a longer name: kept"),
        pytest.param("$namespace/$deployment", "team-a/llama", id="two"),
    ],
)
def test_substitute(expr: str, expected: str) -> None:
    variables = grafana_variables("team-a", "llama", step=1, scrape_seconds=1)

    assert substitute(expr, variables) == expected


@pytest.mark.parametrize(
    ("seconds", "scrape", "interval", "rate_interval"),
    [
        pytest.param(110, 1, "1s", "4s", id="a demo: 4 scrapes"),
        pytest.param(3600, 1, "8s", "9s", id="an hour: interval + a scrape"),
        pytest.param(3600, 15, "15s", "60s", id="Grafana's defaults"),
    ],
)
def test_grafana_intervals(
    seconds: float, scrape: float, interval: str, rate_interval: str
) -> None:
    variables = grafana_variables("n", "d", query_step(seconds, scrape), scrape)

    assert (variables["__interval"], variables["__rate_interval"]) == (interval, rate_interval)


@pytest.mark.parametrize(
    ("legend_format", "labels", "name"),
    [
        pytest.param("{{pod}}", {"pod": "p-1"}, "p-1", id="a label"),
        pytest.param("waiting {{ pod }}", {"pod": "p-1"}, "waiting p-1", id="spaces"),
        pytest.param("p50", {}, "p50", id="fixed"),
        pytest.param("{{state}}", {}, "", id="missing label: empty"),
        pytest.param("", {"b": "2", "a": "1"}, '{a="1", b="2"}', id="none: the labels"),
    ],
)
def test_legend(legend_format: str, labels: dict[str, str], name: str) -> None:
    assert legend(legend_format, labels) == name


def test_series_read_non_numbers_as_gaps_and_are_sorted_by_name() -> None:
    result = [
        {"metric": {"pod": "b"}, "values": [[10, "1"], [11, "NaN"]]},
        {"metric": {"pod": "a"}, "values": [[10, "+Inf"], [11, "NaN"]]},
    ]

    a, b = series_of(result, Target("x", "{{pod}}"))

    assert (a.legend, a.times, a.has_data) == ("a", [10.0, 11.0], False)
    assert (b.legend, b.values[0], math.isnan(b.values[1]), b.has_data) == ("b", 1.0, True, True)


@pytest.mark.parametrize(
    "path", [Path("preview.svg"), Path("/no/such/folder/preview.png")], ids=["svg", "no folder"]
)
def test_a_preview_file_must_be_a_png_in_a_folder_that_exists(path: Path) -> None:
    with pytest.raises(UsageError, match=r"--preview: expected a \.png file in an existing folder"):
        require_preview(path)


class CannedPrometheus:
    """Answers range queries from a table of expression -> result; asked ones recorded."""

    def __init__(self, results: dict[str, list[Obj]]) -> None:
        self.results, self.asked = results, []

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[Obj]:
        self.asked.append((expr, start, end, step))
        return self.results.get(expr, [])


def test_a_preview_queries_each_target_and_draws_a_subplot_per_panel(tmp_path: Path) -> None:
    board = {
        "title": "made up",
        "panels": [
            a_panel("timeseries", "Replicas", 'r{d="$deployment"}', unit="short"),
            a_panel("timeseries", "Latency", "rate(l[$__rate_interval])", unit="s"),
            a_panel("timeseries", "Errors", "e", unit="percentunit", max=1),
        ],
    }
    prometheus = CannedPrometheus(
        {
            'r{d="llama"}': [{"metric": {"pod": "p"}, "values": [[100, "1"], [101, "2"]]}],
            "rate(l[4s])": [{"metric": {"pod": "p"}, "values": [[100, "NaN"], [101, "NaN"]]}],
        }
    )
    variables = grafana_variables("default", "llama", step=1, scrape_seconds=1)
    path = tmp_path / "preview.png"

    drawn = preview(prometheus, board, variables, (100, 102, 1), path=path, caption="a test")

    assert [e for e, *_ in prometheus.asked] == ['r{d="llama"}', "rate(l[4s])", "e"]
    assert {tuple(window) for _, *window in prometheus.asked} == {(100, 102, 1)}
    assert drawn == [Drawn("Replicas", 1, 1), Drawn("Latency", 1, 0), Drawn("Errors", 0, 0)]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_summary_line_names_the_panels_without_data() -> None:
    line = described(Path("p.png"), [Drawn("A", 2, 2), Drawn("B", 1, 0), Drawn("C", 0, 0)])

    assert (
        line
        == "Dashboard preview p.png: 3 panels drawn, 1 with data; no data: B, C (series: 2 0 0)"
    )
