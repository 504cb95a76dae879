"""The PromQL of the llamaops dashboards, named.

Two families of series feed them. The operator's `llamaops_*` (job `llamaops`) carry the
LlamaDeployment's `namespace` and `deployment`; vLLM's `vllm:*` (job `llamaops-vllm`, one
scrape per pod) carry `namespace`, `pod`, `deployment`, `model_name` and `engine`.

A query is a function of a label selector and a grouping, so that the per-deployment
dashboard (`THIS_DEPLOYMENT`, no grouping) and the fleet (no selector, `BY_DEPLOYMENT`)
read the same numbers the same way.
"""

from collections.abc import Sequence

RATE_WINDOW = "$__rate_interval"
TIME_RANGE = "$__range"
STEP_WINDOW = "$__interval"
THIS_DEPLOYMENT = 'namespace="$namespace", deployment="$deployment"'
BY_DEPLOYMENT = ("namespace", "deployment")
OPERATOR_JOB = 'job="llamaops"'
# vLLM's finished_reason values that mean the client did not get its answer.
FAILED_REASONS = 'finished_reason=~"abort|error"'

Grouping = Sequence[str]


def series(name: str, *matchers: str) -> str:
    """`name{a="x", b="y"}`, or the bare name when no matcher is given."""
    selected = ", ".join(matcher for matcher in matchers if matcher)
    return f"{name}{{{selected}}}" if selected else name


def aggregate(operator: str, expr: str, by: Grouping = ()) -> str:
    """`sum by (a, b) (expr)`, or `sum(expr)` over everything."""
    return f"{operator} by ({', '.join(by)}) ({expr})" if by else f"{operator}({expr})"


def per_second(name: str, *matchers: str) -> str:
    return f"rate({series(name, *matchers)}[{RATE_WINDOW}])"


def quantile(
    q: float, histogram: str, where: str = "", by: Grouping = (), window: str = RATE_WINDOW
) -> str:
    """The q-quantile of a Prometheus histogram over `window`, per group."""
    observed = f"rate({series(f'{histogram}_bucket', where)}[{window}])"
    return f"histogram_quantile({q}, {aggregate('sum', observed, (*by, 'le'))})"


# --- vLLM ---------------------------------------------------------------------------------
TTFT = "vllm:time_to_first_token_seconds"
TPOT = "vllm:request_time_per_output_token_seconds"
E2E_LATENCY = "vllm:e2e_request_latency_seconds"
QUEUE_TIME = "vllm:request_queue_time_seconds"


def waiting(where: str = "", by: Grouping = ()) -> str:
    return aggregate("sum", series("vllm:num_requests_waiting", where), by)


def running(where: str = "", by: Grouping = ()) -> str:
    return aggregate("sum", series("vllm:num_requests_running", where), by)


def kv_cache_usage_max(where: str = "", by: Grouping = ()) -> str:
    return aggregate("max", series("vllm:kv_cache_usage_perc", where), by)


def prompt_tokens_per_second(where: str = "", by: Grouping = ()) -> str:
    return aggregate("sum", per_second("vllm:prompt_tokens_total", where), by)


def generation_tokens_per_second(where: str = "", by: Grouping = ()) -> str:
    return aggregate("sum", per_second("vllm:generation_tokens_total", where), by)


def requests_per_second(where: str = "", by: Grouping = ()) -> str:
    return aggregate("sum", per_second("vllm:request_success_total", where), by)


def failed_requests_per_second(where: str = "", by: Grouping = ()) -> str:
    failed = per_second("vllm:request_success_total", where, FAILED_REASONS)
    return aggregate("sum", failed, by)


def error_share(where: str = "", by: Grouping = ()) -> str:
    """Aborted and errored requests over all finished ones (NaN while none finish)."""
    return f"{failed_requests_per_second(where, by)} / {requests_per_second(where, by)}"


def preemptions_per_second(where: str = "", by: Grouping = ()) -> str:
    return aggregate("sum", per_second("vllm:num_preemptions_total", where), by)


# --- the operator -------------------------------------------------------------------------
CONDITION = "llamaops_deployment_condition"
# The state timelines and the fleet table map these numbers back to words.
CONDITION_TRUE, CONDITION_FALSE, CONDITION_UNKNOWN = 1, 0, -1


def replicas(where: str = "", by: Grouping = (), state: str = "") -> str:
    return aggregate("sum", series("llamaops_replicas", where, state), by)


def gauge(name: str, where: str = "", by: Grouping = ()) -> str:
    """One of the operator's per-deployment gauges (max: a second operator pod that still
    exports a stale copy must not double it)."""
    return aggregate("max", series(name, where), by)


def condition_state(where: str = "", by: Grouping = ()) -> str:
    """Per group, 1 while the condition is True, 0 while False, -1 while Unknown.

    The metric has a series per status, 1 for the current one (as kube-state-metrics does);
    folding the status into the value gives one line a state timeline can colour.
    """

    def current(status: str) -> str:
        selected = series(CONDITION, where, f'status="{status}"')
        return f"({selected} == 1)"

    folded = f"{current('True')} or {current('False')} - 1 or {current('Unknown')} - 2"
    return aggregate("max", folded, by)


def available_deployments_by_status() -> str:
    available = series(CONDITION, 'condition="Available"')
    return f"count by (status) ({available} == 1)"


def count_of_flagged(name: str) -> str:
    """How many deployments have the 0/1 gauge at 1 (0 rather than no data when none)."""
    flagged = aggregate("max", name, BY_DEPLOYMENT)
    return f"count({flagged} == 1) or vector(0)"


# --- annotations --------------------------------------------------------------------------
def autoscaler_decisions(where: str) -> str:
    """Above 0 at each step in which the autoscaler's wanted replica count changed (the
    window is the step, so each change marks once)."""
    desired = series("llamaops_autoscaler_desired_replicas", where)
    return f"changes({desired}[{STEP_WINDOW}]) > 0"


def rollouts_in_progress(where: str) -> str:
    return f"{gauge('llamaops_rollout_in_progress', where)} == 1"


def rollouts_halted(where: str) -> str:
    return f"{gauge('llamaops_rollout_halted', where)} == 1"


# --- the operator process -----------------------------------------------------------------
def reconciles_per_second(by: Grouping = (), result: str = "") -> str:
    return aggregate("sum", per_second("llamaops_reconciles_total", OPERATOR_JOB, result), by)


def reconcile_error_share() -> str:
    errors = reconciles_per_second(result='result="error"')
    return f"{errors} / {reconciles_per_second()}"


def api_errors_per_second() -> str:
    errors = per_second("llamaops_api_errors_total", OPERATOR_JOB)
    return aggregate("sum", errors, ("verb", "code"))
