"""The one module that imports the kubernetes client.

Reads retry with tenacity on 429, 5xx and connection errors (capped, jittered backoff)
and never on other 4xx. Objects are returned as the API's JSON, camelCase and all, so
the pure parts never see the client's model classes.
"""

import json
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_random_exponential


class KubeconfigError(ValueError):
    """A kubeconfig that cannot be used (missing, unreadable, no current context)."""


class ClusterError(RuntimeError):
    """The cluster refused or failed a request; the message is one line for a person."""


def describe(error: Exception) -> str:
    """One line: "403 Forbidden: nodes is forbidden: ..." rather than the client's dump."""
    if isinstance(error, ApiException):
        try:
            message = json.loads(error.body or "{}").get("message", "")
        except ValueError:
            message = ""
        return f"{error.status} {error.reason}" + (f": {message}" if message else "")
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _retryable(error: BaseException) -> bool:
    if isinstance(error, ApiException):
        status = int(error.status or 0)
        return status == 429 or status >= 500
    return isinstance(error, urllib3.exceptions.HTTPError | ConnectionError)


api_retry = retry(
    retry=retry_if_exception(_retryable),
    wait=wait_random_exponential(multiplier=0.2, max=5),
    stop=stop_after_attempt(5),
    reraise=True,
)


def api_client(kubeconfig: str | None) -> client.ApiClient:
    """A client from in-cluster config, else the kubeconfig (the given path or the default)."""
    try:
        if kubeconfig is None:
            try:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
                return client.ApiClient()
            except ConfigException:
                pass
        api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig
        )
        return api
    except (ConfigException, OSError, TypeError, ValueError) as error:
        where = kubeconfig or "the default kubeconfig"
        raise KubeconfigError(f"cannot use {where}: {error}") from None


@api_retry
def _items(call: Any) -> list[dict[str, Any]]:
    """The items of a list call, as the API's JSON (the client's models are bypassed)."""
    response = call(_preload_content=False)
    items: list[dict[str, Any]] = json.loads(response.data).get("items", [])
    return items


def list_nodes_and_pods(
    kubeconfig: str | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every Node, and every Pod in every namespace, as API JSON."""
    with api_client(kubeconfig) as api:
        core = client.CoreV1Api(api)
        try:
            return _items(core.list_node), _items(core.list_pod_for_all_namespaces)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as error:
            raise ClusterError(describe(error)) from None
