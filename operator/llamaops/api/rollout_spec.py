"""How replicas move to a new checkpoint or pod template: `LlamaDeployment.spec.rollout`."""

from typing import Annotated

from pydantic import Field

from llamaops.api.base import ApiModel, cel_rule, cel_rules

PERCENT = r"^(100|[1-9]?[0-9])%$"

# A count or a percentage, as in a Deployment's maxSurge.
IntOrPercent = Annotated[int, Field(ge=0, le=1000)] | Annotated[str, Field(pattern=PERCENT)]


class WarmupSpec(ApiModel):
    """A completion each new replica must answer before it takes traffic in a rollout."""

    enabled: bool = Field(default=True, description="Send the warm-up completion.")
    prompt: str = Field(
        default="Say hello.", min_length=1, max_length=4096, description="The warm-up prompt."
    )
    max_tokens: int = Field(default=8, ge=1, le=1024, description="Tokens to generate.")


class CanarySpec(ApiModel):
    """How the first replica on a new checkpoint is judged against the old ones before any
    old replica goes: by the engines' own counts of errors and time to first token."""

    analysis_seconds: int = Field(
        default=0,
        ge=0,
        le=3600,
        description=(
            "How long the canary serves its share of real traffic before it is judged; 0 "
            "(the default) judges it by its warm-up alone."
        ),
    )
    min_requests: int = Field(
        default=20,
        ge=1,
        le=100000,
        description=(
            "Requests the canary must have served to be judged; it waits for them up to 3 "
            "analysis windows, then is judged on what it saw."
        ),
    )
    max_error_rate_increase: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description=(
            "Share of failed requests (finished by an error or an abort) the canary may have "
            "above the old replicas'; default 0.01, one percentage point."
        ),
    )
    max_ttft_p90_ratio: float = Field(
        default=2.0,
        ge=1,
        le=100,
        description=(
            "Most the canary's time-to-first-token p90 may be, as a multiple of the old "
            "replicas'. Default 2: vLLM's histogram buckets are coarse, and a canary one "
            "bucket slower can read as twice as slow. Judged once the canary has served 10 "
            "requests in the window: with fewer, a p90 is its single slowest request."
        ),
    )
    min_ttft_p90_increase_seconds: float = Field(
        default=0.05,
        ge=0,
        le=60,
        description=(
            "A canary's TTFT p90 this little above the old replicas' is never a regression, "
            "whatever the ratio; default 0.05 (50 ms): where first tokens take milliseconds, "
            "a new engine's first few requests set a small window's p90."
        ),
    )


class RolloutSpec(ApiModel):
    """How replicas move to a new checkpoint or pod template."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel_rules(
            cel_rule(
                "!(string(self.maxSurge) in ['0', '0%'] "
                "&& string(self.maxUnavailable) in ['0', '0%'])",
                "rollout.maxSurge and rollout.maxUnavailable cannot both be 0",
                ".maxSurge",
            )
        )
    }

    max_surge: IntOrPercent = Field(
        default=1,
        description="Replicas above the desired count during a rollout: a count or a percentage.",
    )
    max_unavailable: IntOrPercent = Field(
        default=0,
        description="Replicas below the desired count during a rollout: a count or a percentage.",
    )
    drain_timeout_seconds: int = Field(
        default=120,
        ge=1,
        le=3600,
        description=(
            "Longest wait for a replica's in-flight requests before it is removed; "
            "also vLLM's --shutdown-timeout."
        ),
    )
    readiness_timeout_seconds: int = Field(
        default=1800,
        ge=30,
        le=86400,
        description="Longest time a new replica may take to load and become ready.",
    )
    warmup: WarmupSpec = Field(
        default_factory=WarmupSpec, description="Warm-up completion for new replicas."
    )
    paused: bool = Field(default=False, description="Hold the rollout where it is.")
    canary: CanarySpec = Field(
        default_factory=CanarySpec, description="The analysis of the rollout's first replica."
    )
    auto_rollback: bool = Field(
        default=True,
        description=(
            "When a new replica fails after the canary passed, return the replicas already "
            "replaced to the last good checkpoint (status.checkpoint.rolledOut), with the "
            "same drain discipline; the spec is left as it is."
        ),
    )
