"""The user's mistakes on the command line: one line on stderr and exit code 2."""


class UsageError(Exception):
    """Bad input from the user."""
