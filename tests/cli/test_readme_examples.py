"""The `llamaops plan` output shown in the README is what the command prints today."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

EXAMPLE = re.compile(r"```console\n\$ (llamaops plan [^\n]+)\n(.*?)```", re.DOTALL)


def test_every_plan_example_in_the_readme_matches_the_command(repo: Path) -> None:
    examples = EXAMPLE.findall((repo / "README.md").read_text())
    llamaops = str(Path(sys.executable).parent / "llamaops")

    assert len(examples) == 3
    for command, shown in examples:
        args = shlex.split(command)[1:]
        printed = subprocess.run(
            [llamaops, *args], cwd=repo, capture_output=True, text=True, check=False
        ).stdout
        assert printed == shown, f"README example is stale: {command}"
