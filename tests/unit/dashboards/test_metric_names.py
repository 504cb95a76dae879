"""Every series a dashboard queries exists under that name, and is matched or grouped only
on labels it carries: the operator's in its own registry, vLLM's in a real vLLM 0.32
exposition, plus the labels Prometheus' scrape adds."""

from collections.abc import Iterable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, Metric
from prometheus_client.parser import text_string_to_metric_families

import llamaops.runtime.metrics  # noqa: F401  (registers the operator's metrics)
from tests.unit.dashboards.dashboard_queries import Query, all_queries
from tests.unit.dashboards.promql import read

FIXTURE = Path(__file__).parents[1] / "fixtures/vllm-0.32.0-cpu-metrics.txt"
QUERIES = [pytest.param(query, id=str(query)) for query in all_queries()]
WITH_LEGEND_LABELS = [param for param in QUERIES if param.values[0].legend_labels]

VLLM_LABELS = {
    *("namespace", "pod", "deployment", "model_name", "engine", "finished_reason"),
    *("le", "job"),
}
LLAMAOPS_LABELS = {
    *("namespace", "deployment", "state", "condition", "status", "result", "verb", "code"),
    *("direction", "limit", "le", "job"),
}
# `up` comes from Prometheus; process_* from prometheus_client's process collector, which
# the operator's registry holds too. Queries pick the operator's by job alone.
BUILTINS = {"up"}
BUILTIN_LABELS = {"job"}
# What the scrape adds to vLLM's own labels (the pod's, and its LlamaDeployment's).
SCRAPE_LABELS = {"namespace", "pod", "deployment", "job"}


def series_names(families: Iterable[Metric]) -> set[str]:
    """The names a family's samples take in Prometheus, whether or not it has any yet."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("", "_count", "_sum"),
    }
    return {
        family.name + suffix for family in families for suffix in suffixes.get(family.type, ("",))
    }


def vllm_labels_by_series() -> dict[str, set[str]]:
    """Each vLLM series name in the real exposition, with the labels its samples carry."""
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(FIXTURE.read_text()):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return labels


OPERATOR_SERIES = series_names(REGISTRY.collect())
VLLM_SERIES = vllm_labels_by_series()


def test_the_name_sets_hold_what_the_checks_rely_on() -> None:
    assert {"llamaops_reconciles_total", "llamaops_rollout_step_seconds_bucket"} <= OPERATOR_SERIES
    assert "process_resident_memory_bytes" in OPERATOR_SERIES
    assert "vllm:time_to_first_token_seconds_bucket" in VLLM_SERIES
    assert "vllm:gpu_cache_usage_perc" not in VLLM_SERIES  # removed from vLLM


@pytest.mark.parametrize("query", QUERIES)
def test_every_metric_a_query_reads_exists(query: Query) -> None:
    for metric in read(query.expr).metrics:
        if metric.startswith("vllm:"):
            assert metric in VLLM_SERIES, f"{metric} is not in vLLM 0.32's exposition"
        elif metric.startswith(("llamaops_", "process_")):
            assert metric in OPERATOR_SERIES, f"{metric} is not registered by the operator"
        else:
            assert metric in BUILTINS, f"{metric} is neither vLLM's, the operator's nor up"


@pytest.mark.parametrize("query", QUERIES)
def test_every_label_a_query_uses_is_one_its_series_carry(query: Query) -> None:
    reading = read(query.expr)

    for metric in reading.metrics:
        used = reading.labels_of(metric)
        if metric.startswith("vllm:"):
            assert used <= VLLM_LABELS, f"{metric}: {used - VLLM_LABELS}"
            carried = VLLM_SERIES.get(metric, set()) | SCRAPE_LABELS
            assert used <= carried, f"{metric} has no {used - carried}"
        elif metric.startswith("llamaops_"):
            assert used <= LLAMAOPS_LABELS, f"{metric}: {used - LLAMAOPS_LABELS}"
        else:
            assert used <= BUILTIN_LABELS, f"{metric}: {used - BUILTIN_LABELS}"


@pytest.mark.parametrize("query", WITH_LEGEND_LABELS)
def test_a_legend_names_only_labels_the_query_keeps(query: Query) -> None:
    reading = read(query.expr)
    kept = {label for g in reading.groupings if g.keyword == "by" for label in g.labels}

    if kept:  # an aggregation: only the labels it groups by survive
        assert query.legend_labels <= kept - {"le"}
    else:  # raw series keep their labels
        assert query.legend_labels <= VLLM_LABELS | LLAMAOPS_LABELS | {"instance"}
