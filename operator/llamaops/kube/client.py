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

from llamaops import __version__

Obj = dict[str, Any]


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
    """A client from in-cluster config, else the kubeconfig (the given path or the default);
    it says "llamaops/VERSION" as its User-Agent, so audit logs name the operator."""
    try:
        api: client.ApiClient | None = None
        if kubeconfig is None:
            try:
                config.load_incluster_config()  # type: ignore[no-untyped-call]
                api = client.ApiClient()
            except ConfigException:
                pass
        if api is None:
            api = config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
        api.user_agent = f"llamaops/{__version__}"
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


def _object(response: Any) -> Obj | None:
    """A write's answer as the API's JSON: the object as stored (a Status for some deletes)."""
    try:
        found: Obj = json.loads(response.data)
    except (AttributeError, TypeError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _ok_if(error: ApiException, *codes: int) -> None:
    """AlreadyExists and NotFound are success for an idempotent apply; anything else raises."""
    if int(error.status or 0) not in codes:
        raise error


class Kube:
    """The operator's calls to the API, synchronous (the runtime runs them in threads).

    Objects go in and come out as the API's JSON. `on_error(verb, code)` is told of each
    failed call, for the operator's metrics.
    """

    GROUP, VERSION, PLURAL = "serving.llamaops.io", "v1alpha1", "llamadeployments"

    def __init__(self, api: client.ApiClient, on_error: Any = None) -> None:
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.policy = client.PolicyV1Api(api)
        self.on_error = on_error or (lambda verb, code: None)

    def close(self) -> None:
        """Close the connections to the API."""
        self.core.api_client.close()

    def _count(self, verb: str, error: Exception) -> None:
        code = int(getattr(error, "status", 0) or 0)
        self.on_error(verb, str(code) if code else "connection")

    @api_retry
    def get_deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            response: Any = self.custom.get_namespaced_custom_object(
                self.GROUP, self.VERSION, namespace, self.PLURAL, name, _preload_content=False
            )
        except ApiException as error:
            _ok_if(error, 404)
            return None
        found: dict[str, Any] = json.loads(response.data)
        return found

    @api_retry
    def create_pod(self, namespace: str, manifest: Obj) -> Obj | None:
        """The pod as created; None when it already existed."""
        try:
            body: Any = manifest  # the client serializes API JSON as it is
            return _object(self.core.create_namespaced_pod(namespace, body, _preload_content=False))
        except ApiException as error:
            self._count("create", error)
            _ok_if(error, 409)
            return None

    @api_retry
    def delete_pod(self, namespace: str, name: str, grace: int | None = None) -> Obj | None:
        """The pod, terminating; None when it was gone already."""
        try:
            return _object(
                self.core.delete_namespaced_pod(
                    name, namespace, grace_period_seconds=grace, _preload_content=False
                )
            )
        except ApiException as error:
            self._count("delete", error)
            _ok_if(error, 404)
            return None

    @api_retry
    def patch_pod_metadata(
        self, namespace: str, name: str, labels: dict[str, str], annotations: dict[str, str]
    ) -> Obj | None:
        """The pod as patched; None when it is gone."""
        body = {"metadata": {"labels": labels, "annotations": annotations}}
        try:
            return _object(
                self.core.patch_namespaced_pod(name, namespace, body, _preload_content=False)
            )
        except ApiException as error:
            self._count("patch", error)
            _ok_if(error, 404)
            return None

    @api_retry
    def ensure(self, namespace: str, manifest: Obj, exists: bool) -> Obj | None:
        """Create a Service or PodDisruptionBudget, or, when it `exists`, bring its spec and
        labels up to date; either way falls back to the other when the cluster disagrees
        (409 on create, 404 on patch). The object as stored."""
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        create: Any
        patch: Any
        create, patch = {
            "Service": (self.core.create_namespaced_service, self.core.patch_namespaced_service),
            "PodDisruptionBudget": (
                self.policy.create_namespaced_pod_disruption_budget,
                self.policy.patch_namespaced_pod_disruption_budget,
            ),
        }[kind]
        body = {
            "metadata": {"labels": manifest["metadata"].get("labels", {})},
            "spec": _patchable_spec(kind, manifest["spec"]),
        }
        try:
            if exists:
                return _object(patch(name, namespace, body, _preload_content=False))
            return _object(create(namespace, manifest, _preload_content=False))
        except ApiException as error:
            self._count("patch" if exists else "create", error)
            _ok_if(error, 404 if exists else 409)
        if exists:
            return _object(create(namespace, manifest, _preload_content=False))
        return _object(patch(name, namespace, body, _preload_content=False))

    @api_retry
    def get_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        read = {
            "Service": self.core.read_namespaced_service,
            "PodDisruptionBudget": self.policy.read_namespaced_pod_disruption_budget,
        }[kind]  # never a Secret: the operator has no access to them (the chart's RBAC)
        try:
            response: Any = read(name, namespace, _preload_content=False)
        except ApiException as error:
            _ok_if(error, 404)
            return None
        found: dict[str, Any] = json.loads(response.data)
        return found

    @api_retry
    def patch_status(self, namespace: str, name: str, status: Obj) -> Obj | None:
        """The LlamaDeployment as patched; None when it is gone."""
        try:
            return _object(
                self.custom.patch_namespaced_custom_object_status(
                    self.GROUP,
                    self.VERSION,
                    namespace,
                    self.PLURAL,
                    name,
                    {"status": status},
                    _preload_content=False,
                )
            )
        except ApiException as error:
            self._count("patch", error)
            _ok_if(error, 404)
            return None

    @api_retry
    def scale(self, namespace: str, name: str, replicas: int) -> None:
        """Write spec.replicas through the scale subresource, as an HPA does."""
        try:
            self.custom.patch_namespaced_custom_object_scale(
                self.GROUP,
                self.VERSION,
                namespace,
                self.PLURAL,
                name,
                {"spec": {"replicas": replicas}},
                _preload_content=False,
            )
        except ApiException as error:
            self._count("patch", error)
            _ok_if(error, 404)


def patch_spec(kube: Kube, namespace: str, name: str, spec: dict[str, Any]) -> bool:
    """Merge `spec` into a LlamaDeployment's spec (a JSON merge patch, as `kubectl patch
    --type=merge` sends); False when there is no such LlamaDeployment."""
    try:
        kube.custom.patch_namespaced_custom_object(
            Kube.GROUP,
            Kube.VERSION,
            namespace,
            Kube.PLURAL,
            name,
            {"spec": spec},
            _content_type="application/merge-patch+json",
            _preload_content=False,
        )
    except ApiException as error:
        _ok_if(error, 404)
        return False
    return True


def _patchable_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The spec fields llamaops owns (a Service's clusterIP is the cluster's)."""
    if kind == "Service":
        return {k: v for k, v in spec.items() if k in ("ports", "selector", "type")}
    return spec


def operator_client(kubeconfig: str | None) -> Kube:
    """The operator's client: in-cluster config first, then the kubeconfig."""
    return Kube(api_client(kubeconfig))
