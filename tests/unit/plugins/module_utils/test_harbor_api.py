"""module_utils/_harbor_api.py against the fake Harbor of tests/unit/plugins/fake_harbor.py."""

import base64
import socket

import pytest

from ansible_collections.harbor.deploy.plugins.module_utils._harbor_api import (
    HarborApiError,
    HarborClient,
    harbor_message,
    normalize_url,
)
from fake_harbor import ADMIN, FakeHarbor, self_signed, tls_context


def client(harbor, username=ADMIN[0], password=ADMIN[1], **extra):
    waits = []
    extra.setdefault("retries", 3)
    return HarborClient(harbor.url, username, password, timeout=5, backoff=0.01, sleep=waits.append, **extra), waits


@pytest.mark.parametrize("url, base", [
    ("https://harbor.example.com", "https://harbor.example.com"),
    ("https://harbor.example.com/", "https://harbor.example.com"),
    ("http://harbor.example.com:8080/api/v2.0/", "http://harbor.example.com:8080"),
    (" https://example.com/harbor/api/v2.0 ", "https://example.com/harbor"),
])
def test_normalize_url(url, base):
    assert normalize_url(url) == base


@pytest.mark.parametrize("url", ["harbor.example.com", "ftp://harbor", "https://", ""])
def test_normalize_url_refuses(url):
    with pytest.raises(ValueError, match="api_url must be http://HOST or https://HOST"):
        normalize_url(url)


@pytest.mark.parametrize("body, message, code", [
    (b'{"errors":[{"code":"CONFLICT","message":"The project named p already exists"}]}',
     "The project named p already exists", "CONFLICT"),
    ('{"errors":[{"code":"A","message":"one"},{"code":"B","message":"two"}]}', "one; two", "A"),
    ('{"errors":[{"code":"NOT_FOUND"}]}', "NOT_FOUND", "NOT_FOUND"),
    ("<html><body>502 Bad Gateway</body></html>", "<html><body>502 Bad Gateway</body></html>", None),
    (b"", "(empty body)", None),
])
def test_harbor_message(body, message, code):
    assert harbor_message(body) == (message, code)


def test_get_sends_basic_auth_and_reads_json(harbor):
    harbor.add_project("library", public=True)
    api, _ = client(harbor)
    project = api.get("/projects/library", headers={"X-Is-Resource-Name": "true"})
    assert project["name"] == "library" and project["metadata"]["public"] == "true"
    sent = harbor.requests[-1]
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(b"admin:Harbor12345").decode()
    assert sent["headers"]["Accept"] == "application/json"


def test_post_sends_json_and_reads_the_location(harbor):
    api, _ = client(harbor)
    answer = api.post("/projects", {"project_name": "apps", "metadata": {"public": "false"}})
    assert answer.status == 201 and answer.data is None
    assert answer.location_id == harbor.projects["apps"]["project_id"]
    sent = harbor.requests[-1]
    assert sent["body"] == {"project_name": "apps", "metadata": {"public": "false"}}
    assert sent["headers"]["Content-Type"] == "application/json"


def test_get_or_none_on_404(harbor):
    api, _ = client(harbor)
    assert api.get_or_none("/projects/nope", headers={"X-Is-Resource-Name": "true"}) is None


def test_5xx_is_retried_with_backoff_then_succeeds(harbor):
    harbor.fail(503, times=2)
    api, waits = client(harbor)
    assert api.get("/projects") == []
    assert api.attempts == 3 and waits == [0.01, 0.02]


def test_5xx_gives_up_after_the_retries(harbor):
    harbor.fail(500, times=10, body={"errors": [{"code": "UNKNOWN", "message": "database is down"}]})
    api, waits = client(harbor, retries=2)
    with pytest.raises(HarborApiError) as caught:
        api.get("/projects", resource="projects")
    assert api.attempts == 3 and len(waits) == 2 and caught.value.status == 500
    assert str(caught.value).startswith("GET /api/v2.0/projects (projects): HTTP 500 UNKNOWN: database is down "
                                        "(after 3 attempts) [X-Request-Id req-")


def test_a_bad_gateway_page_is_quoted(harbor):
    harbor.fail(502, times=10, body="<html><body><h1>502 Bad Gateway</h1></body></html>")
    api, _ = client(harbor, retries=0)
    with pytest.raises(HarborApiError) as caught:
        api.get("/projects")
    assert "GET /api/v2.0/projects: HTTP 502: <html><body><h1>502 Bad Gateway</h1></body></html> [X-Request-Id" in str(
        caught.value)


@pytest.mark.parametrize("status", [400, 404, 409, 412])
def test_4xx_is_not_retried_and_names_harbor_message(harbor, status):
    harbor.fail(status, body={"errors": [{"code": "X", "message": "harbor says no"}]})
    api, waits = client(harbor)
    with pytest.raises(HarborApiError) as caught:
        api.put("/projects/p", {"metadata": {}}, resource="project p")
    assert api.attempts == 1 and waits == []
    assert caught.value.status == status and caught.value.method == "PUT"
    assert "PUT /api/v2.0/projects/p (project p): HTTP %d X: harbor says no" % status in str(caught.value)


def test_real_409_names_the_resource(harbor):
    harbor.add_project("apps")
    api, _ = client(harbor)
    with pytest.raises(HarborApiError, match=r"^POST /api/v2.0/projects \(project apps\): HTTP 409 CONFLICT: "
                                             r"The project named apps already exists"):
        api.post("/projects", {"project_name": "apps"}, resource="project apps")


def test_retried_post_ending_in_409_says_it_may_have_worked(harbor):
    harbor.fail(502, method="POST")
    harbor.add_project("apps")
    api, _ = client(harbor)
    with pytest.raises(HarborApiError, match="an earlier attempt of this request may have succeeded"):
        api.post("/projects", {"project_name": "apps"})


def test_authentication_failure(harbor):
    api, waits = client(harbor, password="wrong")
    with pytest.raises(HarborApiError) as caught:
        api.get("/projects")
    assert caught.value.status == 401 and waits == []
    assert "authentication failed for user 'admin': unauthorized (check api_username and api_password)" in str(
        caught.value)


def test_robot_credentials(harbor):
    harbor.add_project("apps")
    _, secret = harbor.add_robot("auto")
    api, _ = client(harbor, username="robot$auto", password=secret)
    assert api.get("/projects")[0]["name"] == "apps"


def test_dropped_connection_is_retried(harbor):
    harbor.drop(times=2)
    api, waits = client(harbor)
    assert api.get("/projects") == [] and api.attempts == 3 and len(waits) == 2


def test_timeout_is_retried(harbor):
    harbor.delay(1.0)
    api, _ = client(harbor)
    api.timeout = 0.2
    assert api.get("/projects") == [] and api.attempts == 2


def test_connection_refused_gives_up_naming_the_address():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    waits = []
    api = HarborClient("http://127.0.0.1:%d" % port, "admin", "x", retries=2, backoff=0.01, sleep=waits.append)
    with pytest.raises(HarborApiError) as caught:
        api.get("/projects", resource="projects")
    assert caught.value.status is None and len(waits) == 2
    assert str(caught.value).startswith("GET /api/v2.0/projects (projects): no answer: cannot reach http://127.0.0.1:%d"
                                        % port)
    assert "refused" in str(caught.value) and "(after 3 attempts)" in str(caught.value)


def test_redirects_are_not_followed(harbor):
    harbor.fail(308, body="", method="POST")
    api, _ = client(harbor)
    with pytest.raises(HarborApiError, match="HTTP 308: Harbor redirects to .*: set api_url"):
        api.post("/projects", {"project_name": "apps"})
    assert "apps" not in harbor.projects


def test_non_json_answer(harbor):
    harbor.fail(200, body="<html>login</html>")
    api, _ = client(harbor)
    with pytest.raises(HarborApiError, match="the answer is not JSON: <html>login</html>"):
        api.get("/projects")


@pytest.mark.parametrize("count, page_size, requests", [
    (0, 3, 1), (2, 3, 1), (3, 3, 1), (6, 3, 2), (7, 3, 3), (250, 100, 3),
])
def test_list_all_reads_every_page(harbor, count, page_size, requests):
    for index in range(count):
        harbor.add_project("p%03d" % index)
    api, _ = client(harbor)
    names = [p["name"] for p in api.list_all("/projects", page_size=page_size)]
    assert names == ["p%03d" % i for i in range(count)]
    pages = harbor.sent("GET", "/projects")
    assert [r["query"]["page"] for r in pages] == [str(i) for i in range(1, requests + 1)]
    assert {r["query"]["page_size"] for r in pages} == {str(page_size)}


def test_list_all_keeps_the_query(harbor):
    for name in ("a", "b"):
        harbor.add_project(name)
    api, _ = client(harbor)
    assert [p["name"] for p in api.list_all("/projects", query={"name": "b", "with_detail": False})] == ["b"]
    assert harbor.requests[-1]["query"] == {"name": "b", "with_detail": "false", "page": "1", "page_size": "100"}


# ---------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_harbor(certificate):
    fake = FakeHarbor(tls_context(*certificate))
    yield fake
    fake.stop()


def test_untrusted_certificate_fails_at_once(tls_harbor):
    api, waits = client(tls_harbor)
    with pytest.raises(HarborApiError, match="does not verify .*: set ca_path to the CA that signed it, or "
                                             "validate_certs=false"):
        api.get("/projects")
    assert waits == []


@pytest.mark.parametrize("trust", ["ca_path", "validate_certs"])
def test_trusted_certificate(tls_harbor, certificate, trust):
    extra = {"ca_path": certificate[0]} if trust == "ca_path" else {"validate_certs": False}
    api, _ = client(tls_harbor, **extra)
    assert tls_harbor.url.startswith("https://") and api.get("/projects") == []


def test_unreadable_ca_path(tmp_path):
    (tmp_path / "ca.crt").write_text("not a certificate")
    for path in (tmp_path / "missing.crt", tmp_path / "ca.crt"):
        with pytest.raises(ValueError, match="ca_path %s: cannot load it as PEM CA certificates" % path):
            HarborClient("https://127.0.0.1:1", "admin", "x", ca_path=str(path))
