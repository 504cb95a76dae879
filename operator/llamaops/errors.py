"""Errors that mean the user asked for something wrong, and say which field and why."""


class SpecError(ValueError):
    """A LlamaDeployment spec that cannot be acted on (reason `InvalidSpec` in status)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
