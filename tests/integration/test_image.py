"""The built image (`make image`: build/image, an OCI layout) runs the operator as the
chart's Deployment says: the image's entrypoint, user and environment, the Deployment's
args and environment, and the ServiceAccount's token where the kubelet mounts it
(/var/run/secrets/kubernetes.io/serviceaccount). It logs in in-cluster style and, under
the chart's RBAC with nothing denied, drives the operator's scenarios (create, scale,
autoscale, rollout, halt, delete) on the local cluster.

Run in a chroot of the unpacked image (no container runtime here): the same files, user
and command; not the read-only root or the capability drop, which need a runtime."""

import json
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from tests.chart.render import NAMESPACE, rendered
from tests.integration.chart_helpers import (
    CLUSTER,
    account_token,
    container_args,
    install,
    operator_container,
    requests_of,
    scenarios,
)
from tests.integration.cluster_fixture import REPO
from tests.integration.operator_harness import OperatorWorld, operator_world

IMAGE = REPO / "build" / "image"
SERVICE_ACCOUNT = "var/run/secrets/kubernetes.io/serviceaccount"
SERVICE = ("127.10.0.1", 443)  # the `kubernetes` Service, as the pod sees it


def test_the_image_reconciles_a_deployment_as_the_charts_operator(tmp_path: Path) -> None:
    assert (IMAGE / "index.json").is_file(), f"no image at {IMAGE}: run `make image`"
    bundle = tmp_path / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--image", f"{IMAGE}:latest", str(bundle)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    process = json.loads((bundle / "config.json").read_text())["process"]
    user = f"{process['user']['uid']}:{process['user']['gid']}"
    assert user == "65532:65532", "the image runs as the non-root user the chart expects"
    entrypoint = process["args"][:-1]  # the image's CMD (`run`) gives way to the args

    # A pod reaches the API server as kubernetes.default.svc:443 (kopf's in-cluster login
    # knows no other address): the server listens on port 443 of an address of its own,
    # and the pod's /etc/hosts names it, as cluster DNS would.
    with operator_world(tmp_path, CLUSTER, authorize=True, start=False, address=SERVICE) as world:
        install(world, rendered("defaults"), tmp_path)
        mount_account(world, bundle / "rootfs")
        with inside(bundle / "rootfs", "etc/hosts").open("a") as hosts:
            hosts.write(f"{SERVICE[0]} kubernetes.default.svc kubernetes.default\n")
        container = operator_container(world)
        server = urlsplit(world.cluster.api.url)
        env = dict(item.split("=", 1) for item in process["env"])
        env.update({v["name"]: v["value"] for v in container.get("env") or [] if "value" in v})
        env.update(
            KUBERNETES_SERVICE_HOST=server.hostname or "", KUBERNETES_SERVICE_PORT=str(server.port)
        )
        command = ["chroot", f"--userspec={user}", str(bundle / "rootfs"), *entrypoint]
        world.start_operator([*command, *container_args(container)], env=env)

        scenarios(world)  # create, scale, autoscale, rollout, halt, delete

        asked = requests_of(world)
        assert asked, "the operator did not log in as the chart's ServiceAccount"
        assert [r.request for r in asked if not r.allowed] == []


def mount_account(world: OperatorWorld, rootfs: Path) -> None:
    """What the kubelet mounts for the pod's ServiceAccount: token, CA and namespace."""
    folder = inside(rootfs, SERVICE_ACCOUNT)
    folder.mkdir(parents=True)
    certificate = world.cluster.api.server.certificate
    assert certificate is not None, "the API server serves https when it checks tokens"
    for name, text in (
        ("token", account_token(world)),
        ("ca.crt", certificate.cert_pem),
        ("namespace", NAMESPACE),
    ):
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)


def inside(rootfs: Path, path: str) -> Path:
    """`path` in the image's file system, its symbolic links followed there and not on
    this machine (Debian's /var/run is a link to /run: followed here, it would be ours)."""
    current = rootfs
    for part in Path(path).parts:
        candidate = current / part
        if candidate.is_symlink():
            target = os.readlink(candidate)
            base = rootfs if target.startswith("/") else current
            candidate = inside(rootfs, str(base.relative_to(rootfs) / target.lstrip("/")))
        current = candidate
    assert current.resolve().is_relative_to(rootfs.resolve()), f"{path} leaves the image"
    return current
