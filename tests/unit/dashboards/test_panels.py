"""Every panel says what it shows and reads the chosen data source; the per-deployment
dashboard offers its three variables and every query in it keeps to the chosen deployment."""

from typing import Any

import pytest

from tests.unit.dashboards.dashboard_queries import (
    Query,
    annotation_queries,
    boards,
    panel_queries,
    panels,
)
from tests.unit.dashboards.promql import read

BOARDS = boards()
PANELS = [
    pytest.param(panel, id=f"{uid}: {panel['title']}")
    for uid, board in BOARDS.items()
    for panel in panels(board)
]
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Panels that plot numbers need a unit; a state timeline shows words for its values.
PLOTS_NUMBERS = {"timeseries", "stat", "table"}
SHOWS_STATES = {"state-timeline"}
DEPLOYMENT = BOARDS["llamaops-deployment"]


def variable(board: dict[str, Any], name: str) -> dict[str, Any]:
    found = [v for v in board["templating"]["list"] if v["name"] == name]
    assert found, f"{board['uid']} has no variable {name!r}"
    return found[0]


@pytest.mark.parametrize("panel", PANELS)
def test_a_panel_has_a_title_a_description_and_a_query(panel: dict[str, Any]) -> None:
    assert panel.get("title", "").strip()
    assert len(panel.get("description", "")) > 40, "say what it shows and what to do"
    assert any(target.get("expr", "").strip() for target in panel.get("targets", []))


@pytest.mark.parametrize("panel", PANELS)
def test_a_panel_sets_a_unit_or_words_for_its_values(panel: dict[str, Any]) -> None:
    defaults = panel.get("fieldConfig", {}).get("defaults", {})

    assert panel["type"] in PLOTS_NUMBERS | SHOWS_STATES, f"decide for {panel['type']!r}"
    if panel["type"] in PLOTS_NUMBERS:
        assert defaults.get("unit"), "a panel that plots numbers needs a unit"
    else:
        assert defaults.get("mappings"), "a state panel maps its values to words"


@pytest.mark.parametrize("panel", PANELS)
def test_a_panel_reads_the_datasource_variable(panel: dict[str, Any]) -> None:
    assert panel["datasource"] == DATASOURCE


@pytest.mark.parametrize("panel", PANELS)
def test_a_panels_queries_have_distinct_reference_ids(panel: dict[str, Any]) -> None:
    ref_ids = [target["refId"] for target in panel["targets"]]

    assert all(ref_ids) and len(set(ref_ids)) == len(ref_ids)


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_a_dashboard_numbers_its_panels_and_rows_without_repeating(uid: str) -> None:
    ids = [panel["id"] for panel in BOARDS[uid]["panels"]]

    assert len(set(ids)) == len(ids)


def test_dashboard_uids_are_unique_and_the_ones_the_chart_links_to() -> None:
    uids = [board["uid"] for board in BOARDS.values()]

    assert sorted(uids) == ["llamaops-deployment", "llamaops-fleet", "llamaops-operator"]


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_a_dashboard_lets_the_user_pick_a_prometheus_datasource(uid: str) -> None:
    datasource = variable(BOARDS[uid], "datasource")

    assert (datasource["type"], datasource["query"]) == ("datasource", "prometheus")


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_annotations_and_variables_read_the_datasource_variable(uid: str) -> None:
    board = BOARDS[uid]
    queried = [v for v in board["templating"]["list"] if v["type"] == "query"]

    for item in [*board.get("annotations", {}).get("list", []), *queried]:
        assert item["datasource"] == DATASOURCE, item["name"]


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("namespace", "label_values(llamaops_replicas, namespace)"),
        ("deployment", 'label_values(llamaops_replicas{namespace="$namespace"}, deployment)'),
    ],
)
def test_the_deployment_dashboard_picks_a_namespace_then_a_deployment_in_it(
    name: str, query: str
) -> None:
    picked = variable(DEPLOYMENT, name)

    assert (picked["type"], picked["query"]) == ("query", query)


QUERIES_OF_ONE_DEPLOYMENT = [
    pytest.param(query, id=query.where)
    for query in [*panel_queries(DEPLOYMENT), *annotation_queries(DEPLOYMENT)]
]


@pytest.mark.parametrize("query", QUERIES_OF_ONE_DEPLOYMENT)
def test_every_series_on_the_deployment_dashboard_is_the_chosen_deployments(query: Query) -> None:
    wanted = {("namespace", "=", "$namespace"), ("deployment", "=", "$deployment")}

    for selector in read(query.expr).selectors:
        if selector.metric.startswith(("vllm:", "llamaops_")):
            matchers = {(m.label, m.op, m.value) for m in selector.matchers}
            assert wanted <= matchers, f"{selector.metric} in {query}"


def test_the_deployment_dashboard_marks_autoscaler_decisions_and_rollouts() -> None:
    annotated = {
        metric for query in annotation_queries(DEPLOYMENT) for metric in read(query.expr).metrics
    }

    assert "llamaops_autoscaler_desired_replicas" in annotated
    assert "llamaops_rollout_in_progress" in annotated
