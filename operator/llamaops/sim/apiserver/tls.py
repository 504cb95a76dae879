"""A self-signed serving certificate for the API server when it checks tokens: client-go
(kubectl, Helm) sends a bearer token only over TLS, as it should. Made with the openssl
command (an EC P-256 key, valid for a day), no extra library."""

import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# The names a pod reaches the API server by, and this machine's loopback.
NAMES = ("IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes.default.svc", "DNS:kubernetes.default")


@dataclass(frozen=True)
class ServingCertificate:
    cert_pem: str  # also the CA a kubeconfig trusts: it signed itself
    context: ssl.SSLContext


def self_signed(host: str) -> ServingCertificate:
    """For `host` (the address the server listens on) and the names in NAMES."""
    names = ",".join(dict.fromkeys((*NAMES, f"IP:{host}")))
    with tempfile.TemporaryDirectory(prefix="llamaops-tls-") as folder:
        key, cert = Path(folder) / "key.pem", Path(folder) / "cert.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "ec"),
                *("-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"),
                *("-subj", "/CN=llamaops-sim-apiserver", "-addext", f"subjectAltName={names}"),
                *("-keyout", str(key), "-out", str(cert)),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        return ServingCertificate(cert.read_text(), context)
