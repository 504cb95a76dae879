"""Every query of every dashboard is PromQL Prometheus accepts: promtool checks them all as
recording rules, with Grafana's interval variables replaced by durations."""

import shutil
import subprocess
from pathlib import Path

import yaml

from llamaops.cli.dashboard_preview import substitute
from tests.unit.dashboards.dashboard_queries import Query, all_queries

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
GRAFANA_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "6h"}


def as_prometheus_sees_it(expr: str) -> str:
    """Grafana's interval variables become durations; `$namespace` and the like are left
    alone: in these queries they only appear inside label values, which are strings."""
    return substitute(expr, GRAFANA_DURATIONS)


def rule_file(queries: list[Query], folder: Path) -> Path:
    rules = [
        {"record": f"dashboard:query_{number}", "expr": as_prometheus_sees_it(query.expr)}
        for number, query in enumerate(queries, start=1)
    ]
    path = folder / "dashboard-queries.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return path


def test_grafana_variables_become_durations_and_label_values_stay() -> None:
    expr = 'rate(a{n="$namespace"}[$__rate_interval]) + changes(b[$__interval])'

    assert as_prometheus_sees_it(expr) == 'rate(a{n="$namespace"}[5m]) + changes(b[1m])'


def test_promtool_accepts_every_dashboard_query(tmp_path: Path) -> None:
    assert Path(PROMTOOL).exists(), "promtool checks the queries' syntax: run `make promtool`"
    queries = all_queries()

    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(rule_file(queries, tmp_path))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    index = "\n".join(f"  rule {n}: {query}" for n, query in enumerate(queries, start=1))
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\nRules:\n{index}"
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout
