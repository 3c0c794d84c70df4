"""harbor_health against a real local HTTP(S) server answering scripted bodies."""

import datetime
import http.server
import json
import socket
import ssl
import threading

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_health import parse_body
from ansible_collections.harbor.deploy.plugins.modules import harbor_health


def body(status, **components):
    """A Harbor health body; each component is a status or a (status, error) pair."""
    items = []
    for name, value in components.items():
        state, error = value if isinstance(value, tuple) else (value, None)
        items.append(dict({"name": name, "status": state}, **({"error": error} if error else {})))
    return json.dumps({"status": status, "components": items})


HEALTHY = body("healthy", core="healthy", registry="healthy", database="healthy")
STARTING = body("unhealthy", core=("unhealthy", "unknown status"), registry="healthy")
BROKEN = body("unhealthy", core="healthy",
              registry=("unhealthy", "dial tcp 172.18.0.5:5000: connect: connection refused"),
              jobservice=("unhealthy", "unknown status"))


class Server:
    """Serves the scripted answers in order (the last one repeats) and records request headers."""

    def __init__(self, tls_context=None):
        self.answers = [(200, HEALTHY)]
        self.headers = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                outer.headers.append(dict(self.headers))
                code, text = outer.answers.pop(0) if len(outer.answers) > 1 else outer.answers[0]
                data = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            self.httpd.socket = tls_context.wrap_socket(self.httpd.socket, server_side=True)
        scheme = "https" if tls_context else "http"
        self.url = "%s://127.0.0.1:%d/api/v2.0/health" % (scheme, self.httpd.server_port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def script(self, *answers):
        self.answers = [a if isinstance(a, tuple) else (200, a) for a in answers]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.stop()


def fast(url, **extra):
    return dict({"url": url, "timeout": 2, "interval": 0.05, "request_timeout": 2}, **extra)


def test_healthy_at_once(run_module, server):
    failed, result = run_module(harbor_health, fast(server.url))
    assert not failed and not result["changed"]
    assert result["status"] == "healthy" and result["attempts"] == 1
    assert {"name": "registry", "status": "healthy", "error": None} in result["components"]


@pytest.mark.parametrize("before", [
    [STARTING, STARTING],
    [(502, "<html>502 Bad Gateway</html>")],
    ["not json", '{"components": []}'],
    [body("healthy", core="healthy", registry=("unhealthy", "unknown status"))],
], ids=["starting", "bad-gateway", "garbage", "status-healthy-but-a-component-not"])
def test_waits_until_every_component_is_healthy(run_module, server, before):
    server.script(*before, HEALTHY)
    failed, result = run_module(harbor_health, fast(server.url))
    assert not failed and result["status"] == "healthy"
    assert result["attempts"] == len(before) + 1


def test_timeout_names_each_unhealthy_component(run_module, server):
    server.script(BROKEN)
    failed, result = run_module(harbor_health, fast(server.url, timeout=0.3))
    assert failed and result["status"] == "unhealthy" and result["attempts"] > 1
    assert result["msg"] == ("Harbor not healthy after 0s: registry: unhealthy (dial tcp 172.18.0.5:5000: "
                             "connect: connection refused), jobservice: unhealthy (unknown status)")


def test_connection_refused_counts_as_not_yet(run_module):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    failed, result = run_module(harbor_health, fast("http://127.0.0.1:%d/api/v2.0/health" % port, timeout=0.3))
    assert failed and result["status"] == "unreachable" and result["attempts"] > 1
    assert "Harbor not healthy after" in result["msg"] and "refused" in result["msg"]


def test_http_error_is_reported(run_module, server):
    server.script((502, "bad gateway"))
    failed, result = run_module(harbor_health, fast(server.url, timeout=0))
    assert failed and result["msg"].endswith("HTTP 502") and result["attempts"] == 1


@pytest.mark.parametrize("answer, healthy", [(HEALTHY, True), (BROKEN, False)])
def test_check_mode_probes_once_and_never_fails(run_module, server, answer, healthy):
    server.script(answer)
    failed, result = run_module(harbor_health, fast(server.url, timeout=30), check_mode=True)
    assert not failed and result["attempts"] == 1 and not result["changed"]
    assert (result["status"] == "healthy") is healthy
    assert healthy or result["msg"].startswith("check mode, probed once: Harbor not healthy")


def test_headers_and_host_header_are_sent(run_module, server):
    failed, _ = run_module(harbor_health, fast(server.url, headers={"X-Probe": "1"}, host_header="harbor.example.com"))
    assert not failed
    assert server.headers[0]["Host"] == "harbor.example.com" and server.headers[0]["X-Probe"] == "1"


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "harbor.crt", directory / "harbor.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


@pytest.fixture
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    srv = Server(context)
    yield srv
    srv.stop()


def test_untrusted_certificate_fails_at_once(run_module, tls_server):
    failed, result = run_module(harbor_health, fast(tls_server.url, timeout=30))
    assert failed and result["attempts"] == 1 and result["elapsed"] < 5
    assert "does not verify" in result["msg"] and "ca_path" in result["msg"]


@pytest.mark.parametrize("trust", ["ca_path", "validate_certs"])
def test_trusted_certificate(run_module, tls_server, certificate, trust):
    extra = {"ca_path": certificate[0]} if trust == "ca_path" else {"validate_certs": False}
    failed, result = run_module(harbor_health, fast(tls_server.url, **extra))
    assert not failed and result["status"] == "healthy"


# ---------------------------------------------------------------- module_utils/_harbor_health


@pytest.mark.parametrize("text, status, healthy, summary", [
    (HEALTHY, "healthy", True, "status healthy"),
    (HEALTHY.encode(), "healthy", True, "status healthy"),
    ('{"status": "healthy"}', "healthy", True, "status healthy"),
    (STARTING, "unhealthy", False, "core: unhealthy (unknown status)"),
    ('{"status": "unhealthy", "components": [{"name": "core"}]}', "unhealthy", False, "core: unknown status"),
    ('{"status": "unhealthy", "components": []}', "unhealthy", False, "status unhealthy"),
    ("<html>", "unreachable", False, "answer is not JSON: <html>"),
    ('["healthy"]', "unreachable", False, 'answer has no status: ["healthy"]'),
])
def test_parse_body(text, status, healthy, summary):
    probe = parse_body(text)
    assert (probe.status, probe.healthy, probe.summary()) == (status, healthy, summary)
