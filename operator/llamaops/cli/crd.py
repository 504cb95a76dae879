"""`llamaops crd`: print the LlamaDeployment CustomResourceDefinition."""

import argparse
import sys
from typing import Any

from llamaops.api.crd import crd_yaml


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "crd", help="print the LlamaDeployment CRD (kubectl apply -f - installs it)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(crd_yaml())
    return 0
