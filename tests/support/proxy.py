"""nginx with deploy/nginx.conf in front of a uWSGI port, as the current user, for the fault
tests and scripts/bench_proxy.py: a self-signed certificate, the template filled in, and
the process in its own session like the others in procs."""

import getpass
import re
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support import procs

NGINX = "/usr/sbin/nginx"
TEMPLATE = procs.REPO_ROOT / "deploy" / "nginx.conf"
# The same rule as envsubst in the nginx image: ${NAME} only, nginx's $variables untouched.
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def render(template: str, values: dict[str, str]) -> str:
    """The template with every ${NAME} filled in; a name without a value is an error, as a
    config nginx would read literally must not pass unnoticed."""
    missing = sorted({name for name in PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise KeyError(f"no value for {', '.join(missing)} in {TEMPLATE.name}")
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost and 127.0.0.1, valid for a day, and its key."""
    cert, key = directory / "proxy-cert.pem", directory / "proxy-key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Proxy:
    """A running nginx: its process (the access log is its stdout), ports and certificate."""

    process: procs.Process
    http_port: int
    https_port: int
    certificate: Path

    def tls_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this proxy's certificate."""
        return ssl.create_default_context(cafile=str(self.certificate))


def start(directory: Path, upstream_port: int, *, max_body: int, max_batch_body: int) -> Proxy:
    """nginx serving plain HTTP and TLS on free ports, proxying to 127.0.0.1:upstream_port,
    with the app's body limits (settings.API_MAX_BODY_BYTES, API_MAX_BATCH_BODY_BYTES); its
    pid, temporary files and rendered config under `directory`."""
    prefix = directory / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(prefix)
    http_port, https_port = procs.free_port(), procs.free_port()
    config = prefix / "nginx.conf"
    config.write_text(
        render(
            TEMPLATE.read_text(),
            {
                "NGINX_USER": getpass.getuser(),
                "NGINX_HTTP_PORT": f"127.0.0.1:{http_port}",
                "NGINX_HTTPS_PORT": f"127.0.0.1:{https_port}",
                "TLS_CERTIFICATE": str(cert),
                "TLS_CERTIFICATE_KEY": str(key),
                "ADNET_UPSTREAM": f"127.0.0.1:{upstream_port}",
                "API_MAX_BODY_BYTES": str(max_body),
                "API_MAX_BATCH_BODY_BYTES": str(max_batch_body),
            },
        )
    )
    # -e: errors before the config is read would otherwise go to /var/log/nginx.
    argv = [NGINX, "-p", f"{prefix}/", "-c", str(config), "-e", "stderr"]
    process = procs.Process(f"nginx :{https_port}", argv, directory / "nginx.log").start()
    proxy = Proxy(process, http_port, https_port, cert)
    procs.wait_for(lambda: _listening(proxy), timeout=procs.START_TIMEOUT, what="nginx to listen")
    return proxy


def _listening(proxy: Proxy) -> bool:
    proxy.process.check_alive()
    try:
        procs.request(proxy.http_port, "GET", "/v1/ping", timeout=5)
    except OSError:
        return False
    return True
