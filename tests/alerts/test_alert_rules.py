"""The alert rules the chart ships (charts/llamaops/files/alerts.yaml): promtool accepts them,
its unit tests (the *.test.yaml files here) fire each alert and hold it back, and every alert
carries a severity, a summary naming the deployment and a runbook link to a section that
exists in docs/runbooks.md.

The promtool cases run from copies in tmp_path that name the rules file by absolute path, so
they test this checkout's rules whatever the working directory.
"""

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "charts/llamaops/files/alerts.yaml"
RUNBOOKS = REPO / "docs/runbooks.md"
RUNBOOK_URL = "https://github.com/llamaops/llamaops/blob/main/docs/runbooks.md"
PROMTOOL = Path("/usr/bin/promtool")
CASES = sorted(Path(__file__).parent.glob("*.test.yaml"))

REQUIRED = {
    "LlamaDeploymentUnavailable",
    "LlamaDeploymentDegraded",
    "LlamaDeploymentRolloutHalted",
    "LlamaDeploymentRolloutStuck",
    "LlamaDeploymentAtMaxReplicas",
    "LlamaDeploymentInsufficientGPU",
    "LlamaDeploymentKVCacheSaturated",
    "LlamaDeploymentTTFTHigh",
    "LlamaopsOperatorDown",
    "LlamaopsReconcileErrors",
}
# About the operator itself, not one LlamaDeployment: no deployment to name.
OPERATOR_WIDE = {"LlamaopsOperatorDown", "LlamaopsReconcileErrors"}
SUMMARY_START = "LlamaDeployment {{ $labels.namespace }}/{{ $labels.deployment }} "

Rule = dict[str, Any]


def load_alerts(rules: dict[str, Any]) -> list[Rule]:
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]


ALERTS = load_alerts(yaml.safe_load(RULES.read_text()))


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not PROMTOOL.is_file():
        pytest.fail(f"{PROMTOOL} is missing: run `make promtool` (Debian's prometheus package)")
    return subprocess.run(
        [str(PROMTOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def run_cases(
    case_file: Path, rules_file: Path, folder: Path, about: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`promtool test rules` on a copy of `case_file` that reads `rules_file`; with `about`,
    only the tests that check that alert."""
    cases = yaml.safe_load(case_file.read_text())
    cases["rule_files"] = [str(rules_file)]
    if about is not None:
        cases["tests"] = [test for test in cases["tests"] if about in checked_alerts(test)]
    copy = folder / case_file.name
    copy.write_text(yaml.safe_dump(cases, sort_keys=False))
    return promtool("test", "rules", copy.name, cwd=folder)


def checked_alerts(test: dict[str, Any]) -> set[str]:
    return {check["alertname"] for check in test.get("alert_rule_test", [])}


def alert_tests(alertname: str) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every alert_rule_test about `alertname`, with the file it is in."""
    for case_file in CASES:
        for test in yaml.safe_load(case_file.read_text())["tests"]:
            for check in test.get("alert_rule_test", []):
                if check["alertname"] == alertname:
                    yield case_file, check


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lowercase, punctuation gone, spaces to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def runbook_sections() -> list[str]:
    """The `##` headings of docs/runbooks.md, outside code blocks."""
    headings, fenced = [], False
    for line in RUNBOOKS.read_text().splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            headings.append(line[3:].strip())
    return headings


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    result = promtool("check", "rules", str(RULES), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case_file", CASES, ids=lambda path: path.name)
def test_the_promtool_cases_pass(case_file: Path, tmp_path: Path) -> None:
    result = run_cases(case_file, RULES, tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("case_file", CASES, ids=lambda path: path.name)
def test_the_committed_cases_name_the_charts_rules_file(case_file: Path) -> None:
    # So that `promtool test rules tests/alerts/*.test.yaml` works by hand too.
    rule_files = yaml.safe_load(case_file.read_text())["rule_files"]

    assert [(case_file.parent / name).resolve() for name in rule_files] == [RULES]


def test_the_rules_hold_the_alerts_the_project_promises() -> None:
    names = [alert["alert"] for alert in ALERTS]

    assert set(names) >= REQUIRED, f"missing: {sorted(REQUIRED - set(names))}"
    assert len(names) == len(set(names)), f"an alert is defined twice: {names}"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda alert: alert["alert"])
def test_each_alert_is_paged_with_what_an_sre_needs(alert: Rule) -> None:
    name, annotations = alert["alert"], alert.get("annotations", {})

    assert alert.get("for"), f"{name} has no `for`: one bad scrape would page"
    assert alert.get("labels", {}).get("severity") in {"critical", "warning"}
    assert annotations.get("description", "").strip(), f"{name} has no description"
    if name not in OPERATOR_WIDE:
        assert annotations.get("summary", "").startswith(SUMMARY_START), annotations
    assert annotations.get("runbook_url") == f"{RUNBOOK_URL}#{github_anchor(name)}"
    assert github_anchor(name) in {github_anchor(h) for h in runbook_sections()}


def test_the_runbooks_have_one_section_per_alert_and_no_other() -> None:
    sections = runbook_sections()

    assert sorted(sections) == sorted(alert["alert"] for alert in ALERTS)


@pytest.mark.parametrize("alert", ALERTS, ids=lambda alert: alert["alert"])
def test_each_alert_has_a_firing_and_a_quiet_promtool_case(alert: Rule) -> None:
    name = alert["alert"]
    checks = [check for _, check in alert_tests(name)]
    firing = [expected for check in checks for expected in check.get("exp_alerts") or []]

    assert firing, f"no promtool case fires {name}"
    assert any(not check.get("exp_alerts") for check in checks), f"no case holds {name} back"
    for expected in firing:
        assert {"summary", "description", "runbook_url"} <= set(expected["exp_annotations"])
        labels = expected["exp_labels"]
        assert labels["severity"] == alert["labels"]["severity"]
        if name not in OPERATOR_WIDE:
            assert {"namespace", "deployment"} <= set(labels), labels


@pytest.mark.parametrize("alert", ALERTS, ids=lambda alert: alert["alert"])
def test_the_promtool_cases_notice_an_alert_without_its_for(alert: Rule, tmp_path: Path) -> None:
    # The quiet cases must depend on timing: fired at once, each alert breaks its cases.
    rules = yaml.safe_load(RULES.read_text())
    for rule in load_alerts(rules):
        if rule["alert"] == alert["alert"]:
            rule["for"] = "0s"
    hasty = tmp_path / "alerts.yaml"
    hasty.write_text(yaml.safe_dump(rules, sort_keys=False))
    case_files = {case_file for case_file, _ in alert_tests(alert["alert"])}

    results = [
        run_cases(case_file, hasty, tmp_path, about=alert["alert"])
        for case_file in sorted(case_files)
    ]

    assert any(result.returncode != 0 for result in results), (
        f"{alert['alert']} fired at once and its promtool cases still passed"
    )
