"""The project's shape: importable as users import it, runnable as the README says."""

import subprocess
import sys
from pathlib import Path


def test_operator_source_root_does_not_shadow_the_standard_library(repo: Path) -> None:
    code = (
        "import operator, llamaops; print(operator.__name__, operator.add(2, 3), llamaops.__name__)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["operator", "5", "llamaops"]
    assert not (repo / "operator" / "__init__.py").exists()


def test_python_dash_m_llamaops_is_the_cli(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llamaops", "--version"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.startswith("llamaops ")


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one(repo: Path) -> None:
    readme = (repo / "README.md").read_text()
    first_block = readme[: readme.index("```", readme.index("```") + 3)]

    assert "make demo" in first_block and "make test" in first_block
    assert "make test" in (repo / ".ci" / "run").read_text()
