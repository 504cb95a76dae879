"""Reads a LlamaDeployment from a YAML file and admits it as the API server would.

Every problem is a `ManifestError` whose message is one line naming the file and the
field, so that the CLI can print it without a traceback.
"""

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from llamaops.api.crd import custom_resource_definition
from llamaops.api.model_spec import DNS_SUBDOMAIN
from llamaops.api.resource import API_VERSION, KIND, LlamaDeployment
from llamaops.schema import admit_spec_of, unknown_fields


class ManifestError(ValueError):
    """A file that is not one valid LlamaDeployment."""


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The objects in a YAML file: every document, with `List` kinds flattened."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ManifestError(f"{path}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ManifestError(f"{path}: not UTF-8 text") from None
    try:
        documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        raise ManifestError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None
    objects: list[dict[str, Any]] = []
    for doc in documents:
        if not isinstance(doc, dict):
            raise ManifestError(
                f"{path}: expected Kubernetes objects, found a {type(doc).__name__}"
            )
        items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
        objects.extend(items if isinstance(items, list) else [doc])
    return objects


def load_deployment(path: Path) -> LlamaDeployment:
    """The one LlamaDeployment in the file, defaulted and validated against the CRD."""
    found = [obj for obj in load_documents(path) if obj.get("kind") == KIND]
    if len(found) != 1:
        kinds = sorted({str(obj.get("kind")) for obj in load_documents(path)}) or ["nothing"]
        what = f"{len(found)} LlamaDeployments" if found else "no LlamaDeployment"
        raise ManifestError(
            f"{path}: expected one {KIND}, found {what} (kinds: {', '.join(kinds)})"
        )
    obj = found[0]
    if obj.get("apiVersion") != API_VERSION:
        raise ManifestError(
            f"{path}: apiVersion: must be {API_VERSION}, not {obj.get('apiVersion')!r}"
        )
    if not isinstance(obj.get("metadata"), dict) or not obj["metadata"].get("name"):
        raise ManifestError(f"{path}: metadata.name: Required value")
    name = str(obj["metadata"]["name"])
    if len(name) > 253 or not re.fullmatch(DNS_SUBDOMAIN, name):
        raise ManifestError(
            f"{path}: metadata.name: Invalid value: {name!r}: must be lower case letters, digits, "
            "'-' and '.', starting and ending with a letter or digit"
        )
    crd = custom_resource_definition()
    unknown = unknown_fields(
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], obj, is_root=True
    )
    if unknown:  # kubectl apply validates strictly by default, and so does plan
        fields = ", ".join(f'unknown field "{field}"' for field in unknown)
        raise ManifestError(f"{path}: strict decoding error: {fields}")
    stored, errors = admit_spec_of(crd, obj)
    if errors:
        raise ManifestError(f"{path}: " + "; ".join(str(e) for e in errors))
    try:
        return LlamaDeployment.model_validate(stored)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ManifestError(f"{path}: {field}: {first['msg']}") from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"line {mark.line + 1}: {problem}" if mark is not None else str(problem)
