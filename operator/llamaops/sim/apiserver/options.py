"""What a write request asks for beyond its body: a dry run, and how strictly unknown
fields are treated (`fieldValidation`: Strict refuses, Warn — the default — warns, Ignore
drops them silently). Warnings collected here go back as `Warning` headers."""

from dataclasses import dataclass, field

FIELD_VALIDATIONS = ("Strict", "Warn", "Ignore")


@dataclass
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Warn"
    warnings: list[str] = field(default_factory=list)
