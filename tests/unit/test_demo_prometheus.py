"""`llamaops demo --prometheus`'s set-up: what it refuses before starting anything, the
chart's monitoring it renders, and the objects that make the operator process a target."""

from pathlib import Path

import pytest

from llamaops.cli.demo_prometheus import (
    NAMESPACE,
    chart_monitoring,
    monitoring_for,
    operator_target,
    require_prometheus,
)
from llamaops.cli.main import main
from llamaops.cli.usage import UsageError
from tests.chart.render import CHART

NOWHERE = Path("/no/such/bin/prometheus")
NEEDS_PROMETHEUS = "--prometheus needs Debian's prometheus: run `make promtool`"


def test_without_prometheus_installed_the_flag_is_a_usage_error_naming_the_make_target() -> None:
    with pytest.raises(UsageError) as refused:
        require_prometheus(NOWHERE)

    assert str(refused.value) == NEEDS_PROMETHEUS


def test_without_prometheus_nothing_else_is_checked_or_rendered() -> None:
    with pytest.raises(UsageError) as refused:
        monitoring_for(Path("/no/such/chart"), Path("/no/such/folder/x.png"), binary=NOWHERE)

    assert str(refused.value) == NEEDS_PROMETHEUS


def test_a_bad_preview_file_exits_2_with_one_line_before_the_demo_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--preview", str(tmp_path / "dashboard.svg")])

    assert code == 2
    assert capsys.readouterr().err == (
        f"error: --preview: expected a .png file in an existing folder, "
        f"got {tmp_path / 'dashboard.svg'}\n"
    )


def test_the_chart_rendered_with_monitoring_scrapes_every_second_with_its_alert_rules() -> None:
    monitoring = chart_monitoring(CHART)

    kinds = sorted((m["kind"], m["metadata"]["name"]) for m in monitoring.monitors)
    assert kinds == [("PodMonitor", "llamaops-vllm"), ("ServiceMonitor", "llamaops")]
    endpoints = [e for m in monitoring.monitors for e in m["spec"].get("endpoints", [])] + [
        e for m in monitoring.monitors for e in m["spec"].get("podMetricsEndpoints", [])
    ]
    assert {e["interval"] for e in endpoints} == {"1s"}
    assert monitoring.metrics_service["metadata"]["name"] == "llamaops-metrics"
    assert [Path(f).name for f in monitoring.rule_files] == ["alerts.yaml"]
    assert all(Path(f).is_file() for f in monitoring.rule_files)


def test_the_operator_process_is_a_target_through_a_selectorless_service_and_its_endpoints() -> (
    None
):
    service = chart_monitoring(CHART).metrics_service

    target, endpoints = operator_target(service, 40123)

    assert "selector" not in target["spec"] and "selector" in service["spec"]
    assert target["metadata"]["labels"] == service["metadata"]["labels"]  # what the monitor selects
    assert endpoints["metadata"] == {"name": "llamaops-metrics", "namespace": NAMESPACE}
    assert endpoints["subsets"] == [
        {
            "addresses": [{"ip": "127.0.0.1"}],
            "ports": [{"name": "metrics", "port": 40123, "protocol": "TCP"}],
        }
    ]
