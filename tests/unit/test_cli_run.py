"""`llamaops run`'s flags: a resync period that is not a positive number of seconds is
refused with exit code 2 and one line naming the flag, before anything starts."""

import pytest

from llamaops.cli.main import main


@pytest.mark.parametrize("given", ["0", "-5", "soon", "inf", "nan"])
def test_a_resync_that_is_not_a_positive_number_is_refused(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--resync-seconds", given]) == 2
    [error] = capsys.readouterr().err.strip().splitlines()
    assert (
        f"argument --resync-seconds: expected a number of seconds above 0, not {given!r}" in error
    )
