"""A picture of a Grafana dashboard's time-series panels, drawn from a real Prometheus.

`llamaops demo --preview FILE.png` draws the per-deployment dashboard over the run, one
subplot per time-series panel in the dashboard's order, with its title, unit and legend.
It reads the generated JSON (`charts/llamaops/dashboards/llamaops-deployment.json`), not
`llamaops.dashboards`: nothing in llamaops imports the generator (pyproject's import
contracts), and the JSON is what Grafana loads.

Grafana's variables are set as Grafana sets them for a Prometheus data source whose
scrape interval is the one Prometheus scrapes at: `$__interval` is the query step (the
range over about 500 points, never below the scrape interval) and `$__rate_interval`
max($__interval + scrape interval, 4 × scrape interval). State timelines and stats are
left out; annotations too. matplotlib is imported only to draw.
"""

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llamaops.cli.usage import UsageError
from llamaops.sim.prometheus_process import Prometheus

Obj = dict[str, Any]
NEEDS_MATPLOTLIB = "--preview draws with matplotlib: pip install matplotlib"
VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")
POINTS = 500  # about a panel's width in pixels: Grafana's max data points
UNITS = {"percentunit": "percent", "s": "seconds", "reqps": "requests / s", "ops": "ops / s"}
COLUMNS = 3
# Grafana's classic palette, in its order.
COLORS = ["#73BF69", "#F2CC0C", "#8AB8FF", "#FF780A", "#F2495C", "#5794F2", "#B877D9", "#705DA0"]


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str  # Grafana's unit id: short, percentunit, s, reqps, ops
    targets: tuple[Target, ...]
    axis_label: str = ""
    minimum: float | None = None
    maximum: float | None = None
    steps: bool = False  # lineInterpolation stepAfter


@dataclass(frozen=True)
class Series:
    legend: str
    times: list[float]
    values: list[float]  # NaN where Prometheus had no number

    @property
    def has_data(self) -> bool:
        return any(math.isfinite(v) for v in self.values)


@dataclass(frozen=True)
class Drawn:
    """What one subplot shows: its panel's title, and how many of its series have data."""

    title: str
    series: int
    with_data: int


def time_series_panels(board: Obj) -> list[Panel]:
    """The board's time-series panels in order, those inside collapsed rows included."""
    found = []
    for panel in board.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            if inner.get("type") == "timeseries":
                found.append(_panel(inner))
    return found


def _panel(panel: Obj) -> Panel:
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    custom = defaults.get("custom") or {}
    targets = tuple(
        Target(t["expr"], t.get("legendFormat", ""))
        for t in panel.get("targets", [])
        if "expr" in t
    )
    return Panel(
        title=panel.get("title", ""),
        unit=defaults.get("unit", "short"),
        targets=targets,
        axis_label=custom.get("axisLabel", ""),
        minimum=defaults.get("min"),
        maximum=defaults.get("max"),
        steps=custom.get("lineInterpolation") == "stepAfter",
    )


def query_step(seconds: float, scrape_seconds: float) -> float:
    """Grafana's $__interval for a range of `seconds`: whole seconds, at least a scrape."""
    return float(max(math.ceil(seconds / POINTS), scrape_seconds))


def grafana_variables(
    namespace: str, deployment: str, step: float, scrape_seconds: float
) -> dict[str, str]:
    rate = max(step + scrape_seconds, 4 * scrape_seconds)
    return {
        "namespace": namespace,
        "deployment": deployment,
        "__interval": f"{step:g}s",
        "__rate_interval": f"{rate:g}s",
    }


def substitute(expr: str, variables: dict[str, str]) -> str:
    """`$name` and `${name}` replaced by their values; unknown variables left as they are."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return variables.get(name, match.group(0))

    return VARIABLE.sub(value, expr)


def legend(legend_format: str, labels: dict[str, str]) -> str:
    """A series' name from the target's legendFormat (`{{pod}}`), else its labels."""
    if not legend_format:
        return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return LEGEND_LABEL.sub(lambda m: labels.get(m.group(1), ""), legend_format)


def series_of(result: list[Obj], target: Target) -> list[Series]:
    """A range query's result as series, non-finite values (NaN, ±Inf) as NaN."""
    found = []
    for entry in result:
        times = [float(t) for t, _ in entry["values"]]
        values = [float(v) if math.isfinite(float(v)) else math.nan for _, v in entry["values"]]
        found.append(Series(legend(target.legend, entry.get("metric", {})), times, values))
    return sorted(found, key=lambda s: s.legend)


def read_board(path: Path) -> Obj:
    board: Obj = json.loads(path.read_text())
    return board


def require_preview(path: Path) -> None:
    """A one-line usage error (exit 2) when `path` is not a .png in an existing folder or
    matplotlib cannot be imported: better now than after the run."""
    if path.suffix != ".png" or not path.parent.is_dir():
        raise UsageError(f"--preview: expected a .png file in an existing folder, got {path}")
    try:
        import matplotlib  # noqa: F401, PLC0415
    except ImportError:
        raise UsageError(NEEDS_MATPLOTLIB) from None


def preview(
    prometheus: Prometheus,
    board: Obj,
    variables: dict[str, str],
    window: tuple[float, float, float],
    *,
    path: Path,
    caption: str,
) -> list[Drawn]:
    """Query each time-series panel over `window` (start, end, step; Unix times) and draw
    them into `path`; returns what each subplot shows."""
    start, end, step = window
    panels = []
    for panel in time_series_panels(board):
        series = []
        for target in panel.targets:
            result = prometheus.query_range(substitute(target.expr, variables), start, end, step)
            series += series_of(result, target)
        panels.append((panel, series))
    draw(panels, path, start, f"{board.get('title', '')}: {caption}")
    return [Drawn(p.title, len(s), sum(x.has_data for x in s)) for p, s in panels]


def draw(panels: list[tuple[Panel, list[Series]]], path: Path, start: float, title: str) -> None:
    """One subplot per panel, `COLUMNS` to a row, each legend below its plot as Grafana
    places it; x in seconds since `start`."""
    # The Figure API, not pyplot: no backend, no global state, fine outside the main thread.
    from matplotlib.figure import Figure  # noqa: PLC0415

    rows = max(math.ceil(len(panels) / COLUMNS), 1)
    figure = Figure(figsize=(16, 4.4 * rows), layout="constrained")
    axes = figure.subplots(rows, COLUMNS, squeeze=False)
    end = max((t for _, series in panels for s in series for t in s.times), default=start + 1)
    for ax, (panel, series) in zip(axes.flat, panels, strict=False):
        _draw_panel(ax, panel, series, start)
        ax.set_xlim(0, end - start)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    figure.suptitle(title, fontsize=12)
    figure.savefig(path, dpi=72)


def _draw_panel(ax: Any, panel: Panel, series: list[Series], start: float) -> None:
    from matplotlib.ticker import PercentFormatter  # noqa: PLC0415

    for index, one in enumerate(series):
        times = [t - start for t in one.times]
        color = COLORS[index % len(COLORS)]
        style = "steps-post" if panel.steps else "default"
        ax.plot(times, one.values, color=color, label=one.legend, lw=1.4, drawstyle=style)
        step = "post" if panel.steps else None
        ax.fill_between(times, one.values, color=color, alpha=0.1, step=step)
    ax.set_title(panel.title, fontsize=10, loc="left", fontweight="bold")
    ax.set_ylabel(panel.axis_label or UNITS.get(panel.unit, ""), fontsize=8)
    if panel.unit == "percentunit":
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=panel.minimum, top=panel.maximum)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if not series:
        ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes)
        return
    columns = 1 if len(series) <= 3 else 2
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.08), ncol=columns, frameon=False)


def described(path: Path, drawn: list[Drawn]) -> str:
    """One line for the demo's summary."""
    empty = [d.title for d in drawn if not d.with_data]
    with_data = len(drawn) - len(empty)
    line = f"Dashboard preview {path}: {len(drawn)} panels drawn, {with_data} with data"
    series = " ".join(str(d.with_data) for d in drawn)
    return line + (f"; no data: {', '.join(empty)}" if empty else "") + f" (series: {series})"
