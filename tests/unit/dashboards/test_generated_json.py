"""The committed dashboards are the generator's output, byte for byte, and it writes the
same bytes every time."""

import json
from pathlib import Path

import pytest

from llamaops.dashboards.__main__ import main
from llamaops.dashboards.render import rendered

FOLDER = Path("charts/llamaops/dashboards")
GENERATED = rendered()
REGENERATE = "run `python -m llamaops.dashboards` from the repository root and commit the JSON"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_the_committed_dashboard_is_what_the_generator_writes_now(repo: Path, name: str) -> None:
    committed = repo / FOLDER / name

    assert committed.exists(), f"{FOLDER / name} is missing: {REGENERATE}"
    assert committed.read_text(encoding="utf-8") == GENERATED[name], (
        f"{FOLDER / name} differs from what the dashboards code generates: {REGENERATE}"
    )


def test_the_dashboards_folder_holds_no_dashboard_the_generator_no_longer_writes(
    repo: Path,
) -> None:
    committed = {path.name for path in (repo / FOLDER).glob("*.json")}

    assert committed - set(GENERATED) == set(), f"Stale files in {FOLDER}: delete them"


def test_each_file_is_named_after_its_dashboards_uid() -> None:
    for name, content in GENERATED.items():
        assert name == f"{json.loads(content)['uid']}.json"


def test_the_three_dashboards_are_generated() -> None:
    assert set(GENERATED) == {
        "llamaops-fleet.json",
        "llamaops-deployment.json",
        "llamaops-operator.json",
    }


def test_generating_twice_gives_the_same_bytes() -> None:
    assert rendered() == GENERATED


def test_the_json_is_sorted_indented_by_two_and_ends_with_a_newline() -> None:
    for content in GENERATED.values():
        assert content == json.dumps(json.loads(content), sort_keys=True, indent=2) + "\n"


def test_python_dash_m_writes_every_dashboard_into_the_folder_given(tmp_path: Path) -> None:
    assert main([str(tmp_path / "out")]) == 0

    written = {path.name: path.read_text() for path in (tmp_path / "out").iterdir()}
    assert written == GENERATED
