"""What every llamaops dashboard shares: the `datasource` variable, the time settings,
the links between the three dashboards, rows of panels numbered in order, and
Prometheus-query annotations.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards.panels import DATASOURCE

TAG = "llamaops"
ANNOTATION_STEP = "1m"


@dataclass(frozen=True)
class Row:
    title: str
    panels: Sequence[cogbuilder.Builder[model.Panel]]


def new(uid: str, title: str, description: str) -> dashboard.Dashboard:
    """A dashboard with the datasource picker and a menu of the other llamaops dashboards."""
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .time("now-3h", "now")
        .refresh("30s")
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")
        )
        .link(
            dashboard.DashboardLink("llamaops")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )


def query_variable(name: str, label: str, query: str) -> dashboard.QueryVariable:
    """A variable whose choices a Prometheus `label_values(...)` query lists."""
    return (
        dashboard.QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )


class _PrometheusAnnotationQuery(model.AnnotationQuery):
    """The SDK's annotation query plus what a Prometheus annotation also holds: the
    event's title (a legend-style template), and the query as a `target`, the form newer
    Grafana reads; older releases move the top-level `expr` and `step` there themselves."""

    title_format: str = ""

    def to_json(self) -> dict[str, object]:
        target = {"expr": self.expr, "interval": ANNOTATION_STEP, "refId": "Anno"}
        extra = {"titleFormat": self.title_format, "step": ANNOTATION_STEP, "target": target}
        return {**super().to_json(), **extra}


class PrometheusAnnotation(cogbuilder.Builder[model.AnnotationQuery]):
    """Marks on every time panel wherever `expr` has a value above 0; marks less than a
    step apart merge into a region."""

    def __init__(self, name: str, expr: str, *, title: str, color: str) -> None:
        query = _PrometheusAnnotationQuery(
            name=name, datasource=DATASOURCE, enable=True, icon_color=color, expr=expr
        )
        query.title_format = title
        self._query = query

    def build(self) -> model.AnnotationQuery:
        return self._query


def with_rows(board: dashboard.Dashboard, rows: Sequence[Row]) -> dashboard.Dashboard:
    for row in rows:
        board = board.with_row(dashboard.Row(row.title))
        for panel in row.panels:
            board = board.with_panel(panel)
    return board


def finished(board: dashboard.Dashboard) -> model.Dashboard:
    """The built dashboard, its panels numbered 1, 2, 3… in order so ids stay stable."""
    built = board.build()
    for number, panel in enumerate(built.panels or [], start=1):
        panel.id_val = number
    return built
