"""`python -m llamaops` runs the command-line interface."""

from llamaops.cli.main import main

raise SystemExit(main())
