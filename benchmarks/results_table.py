"""The markdown table every benchmark writes under benchmarks/results/."""

from datetime import UTC, datetime
from pathlib import Path

Row = tuple[str, str, str]


def markdown(title: str, how: str, rows: list[Row]) -> str:
    """A titled table of (measure, figure, note), saying how and when it was measured."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# {title}",
        "",
        f"{how} Measured {when}.",
        "",
        "| measure | figure | note |",
        "|---|---|---|",
        *[f"| {measure} | {figure} | {note} |" for measure, figure, note in rows],
    ]
    return "\n".join(lines) + "\n"


def publish(path: Path, text: str) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    print(text)
