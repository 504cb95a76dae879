"""Panel builders: every panel of the llamaops dashboards is made here.

They all read the `datasource` variable, carry a description (what the panel shows, and
what to do when it looks wrong), and set a unit, or value mappings where a number stands
for a state. Queries are `Query(expr, legend)`; reference ids go A, B, C in order.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model

from llamaops.dashboards.queries import (
    CONDITION_FALSE,
    CONDITION_TRUE,
    CONDITION_UNKNOWN,
    quantile,
)

DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")

SECONDS = "s"
RATIO = "percentunit"  # 0..1, shown as a percentage
REQUESTS_PER_SECOND = "reqps"
OPERATIONS_PER_SECOND = "ops"
COUNT = "short"
BYTES = "bytes"

FULL_WIDTH = 24
HALF_WIDTH = 12
THIRD_WIDTH = 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class State:
    """A number a state timeline or table shows as a word, in a colour."""

    value: int
    text: str
    color: str


# `queries.condition_state` folds a condition's status into 1, 0 and -1.
CONDITION_STATES = (
    State(CONDITION_TRUE, "True", "green"),
    State(CONDITION_FALSE, "False", "red"),
    State(CONDITION_UNKNOWN, "Unknown", "text"),
)


def flag_states(raised: str, color: str, lowered: str) -> tuple[State, State]:
    """Words for a 0/1 gauge: `raised` in `color` at 1, `lowered` in green at 0."""
    return State(1, raised, color), State(0, lowered, "green")


def targets(
    queries: Sequence[Query], *, instant: bool = False
) -> list[cogbuilder.Builder[cogvariants.Dataquery]]:
    built: list[cogbuilder.Builder[cogvariants.Dataquery]] = []
    for index, query in enumerate(queries):
        target = prometheus.Dataquery().expr(query.expr).ref_id(chr(ord("A") + index))
        if query.legend:
            target = target.legend_format(query.legend)
        if instant:
            target = target.instant().format(prometheus_model.PromQueryFormat.TABLE)
        built.append(target)
    return built


def value_mappings(states: Sequence[State]) -> list[model.ValueMapping]:
    options = {
        str(state.value): model.ValueMappingResult(text=state.text, color=state.color, index=i)
        for i, state in enumerate(states)
    }
    return [model.ValueMap(options=options)]


def _legend() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.TABLE)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
        .calcs(["lastNotNull", "max"])
    )


def _tooltip() -> common_builders.VizTooltipOptions:
    return (
        common_builders.VizTooltipOptions()
        .mode(common.TooltipDisplayMode.MULTI)
        .sort(common.SortOrder.DESCENDING)
    )


def time_series(
    title: str,
    description: str,
    unit: str,
    *queries: Query,
    axis_label: str = "",
    width: int = HALF_WIDTH,
    height: int = 8,
) -> timeseries.Panel:
    """Lines over time, one per query result; the legend shows the last and the max."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets(queries))
        .unit(unit)
        .min(0)
        .fill_opacity(10)
        .line_interpolation(common.LineInterpolation.STEP_AFTER)
        .legend(_legend())
        .tooltip(_tooltip())
        .span(width)
        .height(height)
    )
    return panel.axis_label(axis_label) if axis_label else panel


def quantiles(
    title: str,
    description: str,
    histogram: str,
    where: str,
    *,
    levels: Sequence[float] = (0.5, 0.95, 0.99),
    width: int = HALF_WIDTH,
) -> timeseries.Panel:
    """Quantiles (p50, p95, p99 unless told) of a histogram of seconds."""
    lines = [Query(quantile(q, histogram, where), f"p{round(q * 100)}") for q in levels]
    return time_series(title, description, SECONDS, *lines, width=width)


def stat_panel(
    title: str,
    description: str,
    unit: str,
    *queries: Query,
    width: int = 4,
    height: int = 4,
) -> stat.Panel:
    """The last value of each query, large, with a sparkline of the time range."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets(queries))
        .unit(unit)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .graph_mode(common.BigValueGraphMode.AREA)
        .color_mode(common.BigValueColorMode.VALUE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .span(width)
        .height(height)
    )


def state_timeline(
    title: str,
    description: str,
    states: Sequence[State],
    *queries: Query,
    width: int = HALF_WIDTH,
    height: int = 6,
) -> statetimeline.Panel:
    """A band per query result, coloured by which of `states` its value stands for."""
    return (
        statetimeline.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets(queries))
        .mappings(value_mappings(states))
        .show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
        .span(width)
        .height(height)
    )
