"""The PromQL reader the dashboard tests rely on finds metric names, their matchers and
groupings, and nothing else."""

import pytest

from tests.unit.dashboards.promql import read, tokens


@pytest.mark.parametrize(
    ("expr", "metrics"),
    [
        ("up", {"up"}),
        ('up{job="llamaops"}', {"up"}),
        ("rate(vllm:prompt_tokens_total[$__rate_interval])", {"vllm:prompt_tokens_total"}),
        ('rate(a_total{x="1"}[5m])', {"a_total"}),
        ("sum by (pod) (vllm:num_requests_waiting)", {"vllm:num_requests_waiting"}),
        ("sum(rate(a[5m])) by (le)", {"a"}),
        ("histogram_quantile(0.95, sum by (le) (rate(h_bucket[1m])))", {"h_bucket"}),
        ("count(x == 1) or vector(0)", {"x"}),
        ("max(a) * 2 + max(b)", {"a", "b"}),
        ("a / on (namespace) group_left b", {"a", "b"}),
        ('x{a="sum by (y) (z)"}', {"x"}),
        ("x{state!=\"ready\", a=~'b|c'}", {"x"}),
        ("changes(a[$__interval]) > 0", {"a"}),
        ("a offset 5m", {"a"}),
        ("a and bool b unless c", {"a", "b", "c"}),
        ("1 - 2", set()),
    ],
)
def test_the_reader_finds_the_metric_names_an_expression_selects(
    expr: str, metrics: set[str]
) -> None:
    assert read(expr).metrics == metrics


@pytest.mark.parametrize(
    ("expr", "metric", "labels"),
    [
        ('x{state!="ready", a=~"b|c"}', "x", {"state", "a"}),
        ("sum by (pod) (w)", "w", {"pod"}),
        ("sum without (engine) (w)", "w", {"engine"}),
        ("sum(rate(h_bucket[5m])) by (le)", "h_bucket", {"le"}),
        (
            'histogram_quantile(0.5, sum by (ns, le) (rate(h_bucket{j="1"}[1m])))',
            "h_bucket",
            {"ns", "le", "j"},
        ),
        ("sum by (pod) (a) / sum(b)", "b", set()),
        ("sum by (pod) (a) / sum(b)", "a", {"pod"}),
        ("a / on (namespace) b", "b", {"namespace"}),
        (
            'max by (condition) ((c{s="True"} == 1) or (c{s="False"} == 1) - 1)',
            "c",
            {"s", "condition"},
        ),
    ],
)
def test_the_reader_finds_the_labels_an_expression_uses_on_a_metric(
    expr: str, metric: str, labels: set[str]
) -> None:
    assert read(expr).labels_of(metric) == labels


def test_the_reader_keeps_matcher_operators_and_values() -> None:
    (selector,) = read('x{namespace="$namespace", r=~"abort|error"}').selectors

    assert [(m.label, m.op, m.value) for m in selector.matchers] == [
        ("namespace", "=", "$namespace"),
        ("r", "=~", "abort|error"),
    ]


@pytest.mark.parametrize(
    "expr",
    [
        "a # b",  # a character PromQL does not have
        "sumx(a)",  # an unknown function
        '{__name__="a"}',  # a selector the reader cannot name
        "sum(a",  # unbalanced
        "a{b}",  # a matcher without an operator and a value
        "by (le) (a)",  # a grouping without an aggregation
    ],
)
def test_the_reader_refuses_what_it_cannot_read(expr: str) -> None:
    with pytest.raises(ValueError):
        read(expr)


def test_strings_and_ranges_are_single_tokens() -> None:
    kinds = [token.kind for token in tokens('rate(a{b="c d"}[5m])')]

    assert kinds == [
        "identifier",
        "operator",
        "identifier",
        "operator",
        "identifier",
        "operator",
        "string",
        "operator",
        "range",
        "operator",
    ]
