"""`llamaops`: the entry point. Each subcommand lives in its own module.

Exit codes: 0 success, 1 the answer is "no" or the cluster failed us, 2 the user's input
is wrong (one line on stderr, never a traceback).
"""

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from llamaops import __version__
from llamaops.cli import crd, demo, plan, rollout, run, sim
from llamaops.cli.usage import UsageError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="llamaops", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"llamaops {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    plan.register(commands)
    crd.register(commands)
    demo.register(commands)
    run.register(commands)
    rollout.register(commands)
    sim.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code: int = args.run(args)
        return code
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
