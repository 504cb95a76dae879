"""A table with one row per LlamaDeployment and one column per instant query.

Each query is grouped by (namespace, deployment) and returned as a table; Grafana merges
them on those two labels, drops the time column and names each value column. A row links
to the per-deployment dashboard.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.builders import dashboard, table
from grafana_foundation_sdk.models import dashboard as model

from llamaops.dashboards.panels import (
    COUNT,
    DATASOURCE,
    FULL_WIDTH,
    Query,
    State,
    targets,
    value_mappings,
)

DEPLOYMENT_LINK = (
    "/d/llamaops-deployment?${datasource:queryparam}"
    "&var-namespace=${__data.fields.namespace}&var-deployment=${__data.fields.deployment}"
    "&${__url_time_range}"
)


@dataclass(frozen=True)
class Column:
    name: str
    expr: str
    unit: str = COUNT
    states: Sequence[State] = ()


def _organize(columns: Sequence[Column]) -> model.DataTransformerConfig:
    """Drop `Time`, name the `Value #A`… columns, and put namespace and deployment first."""
    value_fields = [f"Value #{chr(ord('A') + i)}" for i in range(len(columns))]
    order = ["namespace", "deployment", *value_fields]
    return model.DataTransformerConfig(
        id_val="organize",
        options={
            "excludeByName": {"Time": True},
            "indexByName": {field: index for index, field in enumerate(order)},
            "renameByName": {
                field: column.name for field, column in zip(value_fields, columns, strict=True)
            },
        },
    )


def _column_settings(column: Column) -> list[model.DynamicConfigValue]:
    """The column's unit where it is not the table's, and its words for states."""
    settings = []
    if column.unit != COUNT:
        settings.append(model.DynamicConfigValue(id_val="unit", value=column.unit))
    if column.states:
        mappings = value_mappings(column.states)
        settings.append(model.DynamicConfigValue(id_val="mappings", value=mappings))
    return settings


def per_deployment(
    title: str, description: str, columns: Sequence[Column], *, height: int = 10
) -> table.Panel:
    panel = (
        table.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .targets(targets([Query(column.expr) for column in columns], instant=True))
        .unit(COUNT)
        .with_transformation(model.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(_organize(columns))
        .data_links([dashboard.DashboardLink("Open this deployment").url(DEPLOYMENT_LINK)])
        .span(FULL_WIDTH)
        .height(height)
    )
    for column in columns:
        if settings := _column_settings(column):
            panel = panel.override_by_name(column.name, settings)
    return panel
