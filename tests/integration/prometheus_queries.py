"""The dashboards' and alert rules' queries as checks against a running Prometheus: each
must return data, and so must every series selector in it, so that no query names a metric
or a label that is not in what Prometheus scraped.

    checks = [*dashboard_checks("5m", namespace, name), *alert_checks(namespace, name)]
    failures, conditions_false = check_all(prometheus, checks, resolution="1s")

A query that is a condition (an alert's `expr`, a dashboard annotation) may rightly return
nothing: it holds only sometimes. Then what it compares must have data: the expression
without its comparisons with numbers (`x > 0.95` -> `x`, `a == 1 and on (k) b == 0` ->
`a and on (k) b`), `absent(x)` read as `x` (absent has data exactly when x has none), and
a subquery's step as the scrape interval.
Panels, variables and the queries in alert descriptions must return data as they are.
"""

import re
from dataclasses import dataclass

from llamaops.cli.dashboard_preview import substitute
from tests.chart.render import alert_rules_file
from tests.integration.prometheus_harness import QueryError, RunningPrometheus
from tests.unit.dashboards.dashboard_queries import all_queries
from tests.unit.dashboards.promql import read

# A comparison with a number: what makes an alert (or an annotation) a condition.
COMPARISON = re.compile(r"\s*(?:==|!=|>=|<=|>|<)\s*(?:bool\s+)?-?\d+(?:\.\d+)?(?![\w.])")
SUBQUERY = re.compile(r"\[(\w+):\w+\]")  # [range:step]
GRAFANA_SCRAPE_INTERVAL = 15  # a Prometheus data source's default "scrape interval", s


@dataclass(frozen=True)
class Check:
    where: str
    expr: str
    condition: bool  # may hold or not now: then what it compares must have data


def dashboard_checks(run: str, namespace: str, deployment: str) -> list[Check]:
    """Every dashboard query with Grafana's variables set as Grafana sets them for a
    dashboard over a run of `run` on a Prometheus data source with its default settings:
    $__interval is the data source's scrape interval (15 s, its floor), $__rate_interval
    four of them, $__range the whole run. Annotations are conditions (they mark when one
    holds)."""
    variables = {
        "namespace": namespace,
        "deployment": deployment,
        "__rate_interval": f"{4 * GRAFANA_SCRAPE_INTERVAL}s",
        "__interval": f"{GRAFANA_SCRAPE_INTERVAL}s",
        "__range": run,
    }
    return [
        Check(
            str(query),
            substitute(query.expr, variables),
            condition=query.where.startswith("annotation"),
        )
        for query in all_queries()
    ]


def alert_checks(namespace: str, deployment: str) -> list[Check]:
    """Each rule's `expr` (a condition), and the queries its description runs (with
    `namespace` and `deployment` for its `%s`)."""
    checks = []
    for group in alert_rules_file()["groups"]:
        for rule in group["rules"]:
            checks.append(Check(f"alert {rule['alert']}", rule["expr"], condition=True))
            for query in re.findall(r"`([^`]+)`", rule["annotations"].get("description", "")):
                expr = query.replace("%s", namespace, 1).replace("%s", deployment, 1)
                checks.append(Check(f"alert {rule['alert']} description", expr, False))
    return checks


def alert_expr(name: str) -> str:
    rules = [r for g in alert_rules_file()["groups"] for r in g["rules"]]
    return str(next(r["expr"] for r in rules if r["alert"] == name))


def what_it_compares(expr: str, resolution: str = "1s") -> str:
    """A condition without its comparisons with numbers, and `absent(x)` as `x`: what it
    looks at, which has data whether the condition holds or not. A subquery's step becomes
    `resolution`: `[1h:1m]` has no point at all in a run that has not yet crossed a minute
    boundary since its series appeared."""
    compared = SUBQUERY.sub(rf"[\1:{resolution}]", COMPARISON.sub("", expr)).strip()
    absent = re.fullmatch(r"absent\((.*)\)", compared, re.DOTALL)
    return absent.group(1) if absent else compared


def one_line(expr: str) -> str:
    return " ".join(expr.split())


def check_all(
    prometheus: RunningPrometheus, checks: list[Check], resolution: str = "1s"
) -> tuple[list[str], list[str]]:
    """Failures (a query or a selector in it without data, or refused), and the conditions
    that do not hold now (their compared part had data; `resolution`: the scrape
    interval, for their subqueries)."""
    failures, conditions_false = [], []
    for check in checks:
        try:
            if not prometheus.query(check.expr):
                compared = what_it_compares(check.expr, resolution)
                if not check.condition:
                    failures.append(f"{check.where}: nothing for {one_line(check.expr)}")
                elif prometheus.query(compared):
                    conditions_false.append(f"{check.where}: {one_line(check.expr)}")
                else:
                    failures.append(f"{check.where}: nothing for {one_line(compared)}")
            failures += [f"{check.where}: {s}" for s in selectors_without_series(prometheus, check)]
        except QueryError as error:
            failures.append(f"{check.where}: refused ({error}): {one_line(check.expr)}")
    return failures, conditions_false


def selectors_without_series(prometheus: RunningPrometheus, check: Check) -> list[str]:
    found = []
    for selector in read(check.expr).selectors:
        matchers = ", ".join(f'{m.label}{m.op}"{m.value}"' for m in selector.matchers)
        text = f"{selector.metric}{{{matchers}}}"
        if not prometheus.query(text):
            found.append(f"no series for {text}")
    return found


def report(failures: list[str], conditions_false: list[str], total: int) -> str:
    return (
        f"{len(failures)} of {total} queries returned nothing:\n  "
        + "\n  ".join(failures)
        + "\nConditions that do not hold now (what they compare had data):\n  "
        + "\n  ".join(conditions_false)
    )
