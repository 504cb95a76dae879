"""`python -m llamaops.dashboards [FOLDER]`: write every dashboard's JSON into FOLDER
(default `charts/llamaops/dashboards`, relative to the working directory).
"""

import argparse
import sys
from pathlib import Path

from llamaops.dashboards.render import write

DEFAULT_FOLDER = Path("charts/llamaops/dashboards")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m llamaops.dashboards", description="Write the Grafana dashboards as JSON."
    )
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    arguments = parser.parse_args(argv)
    for path in write(arguments.folder):
        print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
