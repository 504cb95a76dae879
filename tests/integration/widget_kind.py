"""The Widget test kind (test.llamaops.io/v1): its CRD, a builder, and the names that
kopf_operator.py and test_kopf.py share. No kopf here: importing the operator would
register its handlers in kopf's default registry for the whole test session.
"""

from typing import Any

GROUP = "test.llamaops.io"
VERSION = "v1"
PLURAL = "widgets"
LEDGER = "widget-ledger"  # created by the test; on.delete writes to it
CREATED = "WidgetCreated"  # the reasons of the events the create handlers post
SEEN = "ConfigMapSeen"
WATCHED = {f"{GROUP}/watched": "yes"}  # the label of the ConfigMaps this operator handles
QUIET = f"{GROUP}/quiet"  # the label of Widgets with no timer and no daemon
FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"  # kopf's default
# Environment variables through which the test picks some of kopf's watching modes.
INITIAL_STREAMING = "WIDGETS_INITIAL_STREAMING"  # "1": watch with sendInitialEvents
CHUNK_SIZE = "WIDGETS_CHUNK_SIZE"  # list in pages of this many objects


def deletion_key(kind: str, name: str) -> str:
    """The ledger annotation that records the deletion of object `name` of `kind`."""
    return f"{GROUP}/deleted-{kind.lower()}-{name}"


def child_name(name: str) -> str:
    return f"{name}-child"


def widget_crd(declare_metadata: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {"size": {"type": "integer"}, "color": {"type": "string"}},
            },
            # kopf stores handler results and progress here.
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    if declare_metadata:  # controller-gen always does; hand-written CRDs often do not
        schema["properties"]["metadata"] = {"type": "object"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def a_widget(name: str, size: int = 1, quiet: bool = False) -> dict[str, Any]:
    """A Widget; a quiet one gets no timer and no daemon, so only the test writes to it."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name, "labels": {QUIET: "yes"} if quiet else {}},
        "spec": {"size": size, "color": "blue"},
    }
