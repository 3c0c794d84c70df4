#!/usr/bin/env python3
"""Stand-in for goharbor/prepare (the image behind the bundle's ./prepare).

  prepare [--conf /input/harbor.yml] [--with-trivy]
      validate harbor.yml with Harbor's rules and messages, lay out
      data_volume (/data), render common/config (/config) and
      docker-compose.yml (/compose_location), as the real prepare does.
  migrate -i /abs/path/harbor.yml [-o OUT] [-t TARGET]
      rewrite a harbor.yml (read through /hostfs) for this release.

Mounts, as the bundle's prepare script passes them: /input, /data,
/compose_location, /config, /hostfs. No network is needed.
"""
import datetime
import os
import secrets
import shutil
import string
import sys
import warnings

import yaml

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # bcrypt for registry/passwd, as htpasswd writes it
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VERSION = os.environ.get("HARBOR_STANDIN_VERSION", "dev")          # e.g. v2.15.2
CFG_VERSION = os.environ.get("HARBOR_STANDIN_CFG_VERSION", "2.15.0")  # harbor.yml _version
REDIS_IMAGE = os.environ.get("HARBOR_STANDIN_REDIS_IMAGE", "redis-photon")
ACCEPT_VERSIONS = ["1.9.0", "1.10.0", "2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0", "2.6.0", "2.7.0",
                   "2.8.0", "2.9.0", "2.10.0", "2.11.0", "2.12.0", "2.13.0", "2.14.0", "2.15.0"]

INPUT = "/input/harbor.yml"
CONFIG_DIR = "/config"
COMPOSE_DIR = "/compose_location"
DATA = "/data"
HOSTFS = "/hostfs"
DEFAULT_UID = DEFAULT_GID = 10000
PG_UID = PG_GID = 999
REDIS_UID = REDIS_GID = 999
DEFAULT_CERT = "/your/certificate/path"
DEFAULT_KEY = "/your/certificate/path"
SYSLOG = "tcp://localhost:1514"
INTERNAL_NO_PROXY = ["127.0.0.1", "localhost", ".local", ".internal", "log", "db", "redis", "nginx", "core",
                     "portal", "postgresql", "jobservice", "registry", "registryctl", "trivy-adapter", "exporter"]


class ValidationError(Exception):
    pass


class ParseError(Exception):
    pass


def info(msg):
    print(msg, flush=True)


def rand(n):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def host_path(path, data_shortcut=False):
    """A host path as this container sees it (prepare runs with / at /hostfs).
    Harbor reads storage_service.ca_bundle from the data volume when it starts with /data/."""
    if data_shortcut and path.startswith(DATA + "/"):
        return path
    return os.path.join(HOSTFS, str(path).lstrip("/"))


def req(mapping, key, where=""):
    if not isinstance(mapping, dict) or key not in mapping:
        raise ParseError(f"KeyError: '{key}' ({where + '.' if where else ''}{key} is missing in harbor.yml)")
    return mapping[key]


# ---------------------------------------------------------------- parse
def parse(path, with_trivy):
    try:
        with open(path) as fh:
            cfg = yaml.safe_load(fh)
    except FileNotFoundError:
        raise ParseError(f"no config file: {path}")
    except yaml.YAMLError as exc:
        raise ParseError(f"harbor.yml is not valid YAML: {exc}")
    if not isinstance(cfg, dict):
        raise ParseError("harbor.yml is empty or not a mapping")
    c = {"portal_url": "http://portal:8080", "registry_url": "http://registry:5000",
         "registry_controller_url": "http://registryctl:8080", "core_url": "http://core:8080",
         "core_local_url": "http://127.0.0.1:8080", "token_service_url": "http://core:8080/service/token",
         "jobservice_url": "http://jobservice:8080", "trivy_adapter_url": "http://trivy-adapter:8080",
         "with_trivy": with_trivy}
    c["hostname"] = req(cfg, "hostname")
    c["protocol"] = "http"
    http_cfg = cfg.get("http") or {}
    c["http_port"] = http_cfg.get("port", 80)
    https_cfg = cfg.get("https")
    if https_cfg:
        c["protocol"] = "https"
        c["https_port"] = https_cfg.get("port", 443)
        c["cert_path"] = https_cfg.get("certificate")
        if "private_key" not in https_cfg:
            # the real prepare dies here with a bare KeyError: 'private_key'
            raise ParseError("KeyError: 'private_key' (https.private_key is missing: the protocol is https "
                             "but attribute ssl_cert_key is not set)")
        c["cert_key_path"] = https_cfg.get("private_key")
        c["strong_ssl_ciphers"] = bool(https_cfg.get("strong_ssl_ciphers"))
    if cfg.get("external_url"):
        c["public_url"] = str(cfg["external_url"]).rstrip("/")
    elif c["protocol"] == "https":
        c["public_url"] = f"https://{c['hostname']}" + ("" if c["https_port"] == 443 else f":{c['https_port']}")
    else:
        c["public_url"] = f"http://{c['hostname']}" + ("" if c["http_port"] == 80 else f":{c['http_port']}")

    ipf = cfg.get("ip_family") or {}
    c["ipv6"] = bool((ipf.get("ipv6") or {}).get("enabled", False))
    c["ipv4"] = bool((ipf.get("ipv4") or {}).get("enabled", True))

    db = cfg.get("database")
    c["external_database"] = bool(cfg.get("external_database"))
    if c["external_database"]:
        h = req(cfg["external_database"], "harbor", "external_database")
        c.update(db_host=req(h, "host", "external_database.harbor"), db_port=req(h, "port", "external_database.harbor"),
                 db_name=req(h, "db_name", "external_database.harbor"),
                 db_user=req(h, "username", "external_database.harbor"),
                 db_password=req(h, "password", "external_database.harbor"),
                 db_sslmode=req(h, "ssl_mode", "external_database.harbor"),
                 db_max_idle=h.get("max_idle_conns") or 2, db_max_open=h.get("max_open_conns") or 0)
    elif db:
        c.update(db_host="postgresql", db_port=5432, db_name="registry", db_user="postgres",
                 db_password=db.get("password") or "", db_sslmode="disable",
                 db_max_idle=db.get("max_idle_conns") or 2, db_max_open=db.get("max_open_conns") or 0,
                 db_conn_max_lifetime=db.get("conn_max_lifetime") or "5m",
                 db_conn_max_idle_time=db.get("conn_max_idle_time") or 0)
    else:
        raise ParseError("KeyError: 'database' (harbor.yml needs a database block or external_database)")

    c["data_volume"] = str(req(cfg, "data_volume")).rstrip("/") or "/"
    c["harbor_admin_password"] = req(cfg, "harbor_admin_password")

    st = cfg.get("storage_service") or {}
    c["registry_custom_ca_bundle_path"] = st.get("ca_bundle") or ""
    for name in ("filesystem", "azure", "gcs", "s3", "swift", "oss"):
        if st.get(name):
            c["storage_provider_name"], c["storage_provider_config"] = name, st[name]
            break
    else:
        c["storage_provider_name"], c["storage_provider_config"] = "filesystem", {}
    c["storage_redirect_disabled"] = bool((st.get("redirect") or {}).get("disable", False))

    proxy = cfg.get("proxy") or {}
    no_proxy = list(INTERNAL_NO_PROXY)
    if proxy.get("no_proxy"):
        no_proxy += [x for x in str(proxy["no_proxy"]).split(",") if x and x not in no_proxy]
    for comp in proxy.get("components") or []:
        c[f"{comp}_http_proxy"] = proxy.get("http_proxy") or ""
        c[f"{comp}_https_proxy"] = proxy.get("https_proxy") or ""
        c[f"{comp}_no_proxy"] = ",".join(no_proxy)

    trivy = cfg.get("trivy") or {}
    c["trivy"] = {"github_token": trivy.get("github_token") or "", "skip_update": bool(trivy.get("skip_update")),
                  "skip_java_db_update": bool(trivy.get("skip_java_db_update")),
                  "offline_scan": bool(trivy.get("offline_scan")), "security_check": trivy.get("security_check") or "vuln",
                  "ignore_unfixed": bool(trivy.get("ignore_unfixed")), "insecure": bool(trivy.get("insecure")),
                  "timeout": trivy.get("timeout") or "5m0s", "db_repository": trivy.get("db_repository") or "",
                  "java_db_repository": trivy.get("java_db_repository") or ""}

    js = cfg.get("jobservice") or {}
    c["max_job_workers"] = req(js, "max_job_workers", "jobservice")
    c["job_loggers"] = js.get("job_loggers") or ["STD_OUTPUT", "FILE"]
    c["logger_sweeper_duration"] = js.get("logger_sweeper_duration") or 1
    c["max_job_duration_hours"] = js.get("max_job_duration_hours") or 24
    c["jobservice_secret"] = rand(16)
    note = cfg.get("notification") or {}
    c["webhook_job_max_retry"] = req(note, "webhook_job_max_retry", "notification")
    c["webhook_job_http_client_timeout"] = note.get("webhook_job_http_client_timeout") or 3

    logc = cfg.get("log") or {}
    level = req(logc, "level", "log")
    if level not in ("debug", "info", "warning", "error", "fatal"):
        raise ParseError("log level must be one of debug, info, warning, error, fatal")
    c["log_level"] = level.lower()
    local = logc.get("local") or {}
    c["log_location"] = str(local.get("location") or "/var/log/harbor").rstrip("/") or "/"
    c["log_rotate_count"] = local.get("rotate_count") or 50
    c["log_rotate_size"] = local.get("rotate_size") or "200M"
    ext = logc.get("external_endpoint")
    c["log_external"] = bool(ext)
    if ext:
        c["log_ep_protocol"] = ext.get("protocol")
        c["log_ep_host"] = ext.get("host")
        c["log_ep_port"] = ext.get("port")

    er = cfg.get("external_redis")
    rc = cfg.get("redis") or {}
    if er:
        host = str(req(er, "host", "external_redis"))
        c.update(external_redis=True, redis_host=host.split(",")[0].rsplit(":", 1)[0],
                 redis_port=int(host.split(",")[0].rsplit(":", 1)[1]) if ":" in host else 6379,
                 redis_password=er.get("password") or "", redis_username=er.get("username") or "",
                 redis_sentinel=er.get("sentinel_master_set") or "",
                 redis_registry_db=er.get("registry_db_index", 1), redis_jobservice_db=er.get("jobservice_db_index", 2),
                 redis_trivy_db=er.get("trivy_db_index", 5), redis_idle_timeout=er.get("idle_timeout_seconds", 30))
    else:
        c.update(external_redis=False, redis_host="redis", redis_port=6379, redis_password="", redis_username="",
                 redis_sentinel="", redis_registry_db=rc.get("registry_db_index", 1),
                 redis_jobservice_db=rc.get("jobservice_db_index", 2), redis_trivy_db=rc.get("trivy_db_index", 5),
                 redis_idle_timeout=30)

    c["core_secret"] = rand(16)
    c["registry_username"] = "harbor_registry_user"
    c["registry_password"] = rand(32)
    # Harbor's registry template writes the literal "placeholder" as http.secret (the key of the upload state
    # HMAC): the same on every host, so an upload begun through one node can end through another.
    c["registry_http_secret"] = "placeholder"
    c["csrf_key"] = rand(32)

    itls = cfg.get("internal_tls") or {}
    c["internal_tls"] = bool(itls.get("enabled"))

    metric = cfg.get("metric") or {}
    c["metric"] = {"enabled": bool(metric.get("enabled")), "port": metric.get("port", 9090),
                   "path": metric.get("path") or "/metrics"}

    c["trace"] = cfg.get("trace") or {}
    up = cfg.get("upload_purging")
    c["upload_purging"] = {"enabled": bool((up or {}).get("enabled")) if up is not None else True,
                           "age": (up or {}).get("age") or "168h", "interval": (up or {}).get("interval") or "24h",
                           "dryrun": bool((up or {}).get("dryrun"))}
    cache = cfg.get("cache") or {}
    c["cache"] = {"enabled": bool(cache.get("enabled")), "expire_hours": cache.get("expire_hours", 24)}
    core = cfg.get("core") or {}
    c["quota_update_provider"] = core.get("quota_update_provider") or "db"
    c["uaa_ca_file"] = (cfg.get("uaa") or {}).get("ca_file") or ""
    return c


# ---------------------------------------------------------------- validate
def validate(c):
    if c.get("hostname") == "127.0.0.1":
        raise ValidationError("127.0.0.1 can not be the hostname")
    if c.get("hostname") == "reg.mydomain.com":
        raise ValidationError("Please specify hostname")
    if c["protocol"] == "https":
        if not c.get("cert_path") or c["cert_path"] == DEFAULT_CERT:
            raise ValidationError("Error: The protocol is https but attribute ssl_cert is not set")
        if not c.get("cert_key_path") or c["cert_key_path"] == DEFAULT_KEY:
            raise ValidationError("Error: The protocol is https but attribute ssl_cert_key is not set")
    if "log_ep_host" in c and not c["log_ep_host"]:
        raise ValidationError("Error: must set log endpoint host to enable external host")
    if "log_ep_port" in c and not c["log_ep_port"]:
        raise ValidationError("Error: must set log endpoint port to enable external host")
    if "log_ep_protocol" in c and c["log_ep_protocol"] not in ("udp", "tcp"):
        raise ValidationError("Protocol in external log endpoint must be one of 'udp' or 'tcp' ")
    if c["storage_provider_name"] != "filesystem" and c["storage_provider_config"] == "":
        raise ValidationError(f"Error: no provider configurations are provided for provider "
                              f"{c['storage_provider_name']}")
    if c["registry_custom_ca_bundle_path"]:
        p = host_path(c["registry_custom_ca_bundle_path"], data_shortcut=True)
        try:
            st = os.stat(p)
        except OSError:
            raise ValidationError("Can not get file info")
        if (st.st_uid == DEFAULT_UID and not st.st_mode & 0o400) or (st.st_uid != DEFAULT_UID and not st.st_mode & 0o004):
            raise ValidationError(f"Cert File {c['registry_custom_ca_bundle_path']} should be owned by user with "
                                  f"uid 10000 or readable by others")
    if c["internal_tls"]:
        raise ValidationError("internal_tls is not supported by the stand-in Harbor")
    tr = c["trace"]
    if tr and tr.get("enabled"):
        jaeger, otel = tr.get("jaeger"), tr.get("otel")
        if not jaeger and not otel:
            raise ValidationError("Trace enabled but no trace exporter set")
        if jaeger and otel:
            raise ValidationError("Only can have one trace exporter at a time")
        if jaeger:
            if not jaeger.get("endpoint") and not jaeger.get("agent_host"):
                raise ValidationError("Jaeger Colector Endpoint or Agent host not set, must set one")
            if jaeger.get("endpoint") and jaeger.get("agent_host"):
                raise ValidationError("Jaeger Colector Endpoint and Agent host both set, only can set one")
        if otel:
            if not otel.get("endpoint"):
                raise ValidationError("Trace endpoint not set")
            if not otel.get("url_path"):
                raise ValidationError("Trace url path not set")
    up = c["upload_purging"]
    if up["enabled"]:
        for key in ("age", "interval"):
            val = up[key]
            if not isinstance(val, str) or not val.endswith("h"):
                raise ValidationError(f"purge upload {key} should set with with nh, n is the number of hour")
            if not val[:-1].isnumeric() or int(val[:-1]) < 2:
                raise ValidationError(f"purge upload {key} should set with with nh, n is the number of hour and n "
                                      f"should not be less than 2")
    cache = c["cache"]
    if cache["enabled"]:
        eh = cache["expire_hours"]
        ok = (isinstance(eh, int) and not isinstance(eh, bool) and eh > 0) or (isinstance(eh, str) and eh.isnumeric()
                                                                                 and int(eh) > 0)
        if not ok:
            raise ValidationError("cache expire hours should be a positive integer")
    m = c["metric"]
    if m["enabled"] and not (isinstance(m["port"], int) and 0 < m["port"] < 65536):
        raise ValidationError("Port number in metrics is not valid")
    if c["protocol"] == "https":
        for key in ("cert_path", "cert_key_path"):
            if not os.path.isfile(host_path(c[key])):
                raise ValidationError(f"Error: the file {c[key]} (https.{'certificate' if key == 'cert_path' else 'private_key'}) "
                                      f"does not exist on the host")


# ---------------------------------------------------------------- files
def write(path, text, mode=0o644, uid=DEFAULT_UID, gid=DEFAULT_GID):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)
    os.chown(path, uid, gid)
    info(f"Generated configuration file: {path}")


def mkdir(path, uid=DEFAULT_UID, gid=DEFAULT_GID, mode=None):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, gid)
    if mode is not None:
        os.chmod(path, mode)


def env_text(pairs):
    return "".join(f"{k}={'' if v is None else v}\n" for k, v in pairs)


def ydump(obj):
    return yaml.safe_dump(obj, default_flow_style=False, sort_keys=False)


def clean_config_dir():
    if not os.path.isdir(CONFIG_DIR):
        os.makedirs(CONFIG_DIR)
        return
    for name in os.listdir(CONFIG_DIR):
        p = os.path.join(CONFIG_DIR, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        else:
            os.remove(p)


def redis_url(c, db):
    auth = ""
    if c["redis_password"]:
        auth = f"{c['redis_username']}:{c['redis_password']}@"
    return f"redis://{auth}{c['redis_host']}:{c['redis_port']}/{db}?idle_timeout_seconds={c['redis_idle_timeout']}"


def proxy_env(c, comp):
    return [("HTTP_PROXY", c.get(f"{comp}_http_proxy", "")), ("HTTPS_PROXY", c.get(f"{comp}_https_proxy", "")),
            ("NO_PROXY", c.get(f"{comp}_no_proxy", ",".join(INTERNAL_NO_PROXY)))]


# ---------------------------------------------------------------- secrets
def prepare_secrets(c):
    mkdir(f"{DATA}/secret")
    keys = f"{DATA}/secret/keys"
    mkdir(keys)
    secretkey = f"{keys}/secretkey"
    if not os.path.exists(secretkey):
        write(secretkey, rand(16), 0o600)
    else:
        os.chown(secretkey, DEFAULT_UID, DEFAULT_GID)
    key_path, crt_path = f"{DATA}/secret/core/private_key.pem", f"{DATA}/secret/registry/root.crt"
    mkdir(f"{DATA}/secret/core")
    mkdir(f"{DATA}/secret/registry")
    if not (os.path.exists(key_path) and os.path.exists(crt_path)):
        key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "AU"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "harbor"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "harbor-token-ca")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption()).decode(), 0o600)
        write(crt_path, cert.public_bytes(serialization.Encoding.PEM).decode(), 0o644)
    else:
        for p in (key_path, crt_path):
            os.chown(p, DEFAULT_UID, DEFAULT_GID)
    if c["protocol"] == "https":
        cert_dir = f"{DATA}/secret/cert"
        mkdir(cert_dir, mode=0o755)
        shutil.copyfile(host_path(c["cert_path"]), f"{cert_dir}/server.crt")
        shutil.copyfile(host_path(c["cert_key_path"]), f"{cert_dir}/server.key")
        os.chmod(f"{cert_dir}/server.crt", 0o644)
        os.chmod(f"{cert_dir}/server.key", 0o600)
        for n in ("server.crt", "server.key"):
            os.chown(f"{cert_dir}/{n}", DEFAULT_UID, DEFAULT_GID)
        info(f"Copied {c['cert_path']} and {c['cert_key_path']} to {cert_dir}")


def prepare_data_dirs(c):
    for d in ("registry", "job_logs", "ca_download"):
        mkdir(f"{DATA}/{d}")
    if not c["external_database"]:
        mkdir(f"{DATA}/database", PG_UID, PG_GID, 0o700)
    if not c["external_redis"]:
        mkdir(f"{DATA}/redis", REDIS_UID, REDIS_GID)
    if c["with_trivy"]:
        mkdir(f"{DATA}/trivy-adapter")
        mkdir(f"{DATA}/trivy-adapter/trivy")
        mkdir(f"{DATA}/trivy-adapter/reports")


# ---------------------------------------------------------------- components
NGINX_COMMON = """worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr {level};

events {{
  worker_connections 3096;
  use epoll;
  multi_accept on;
}}

http {{
  client_body_temp_path /tmp/client_body_temp;
  proxy_temp_path /tmp/proxy_temp;
  fastcgi_temp_path /tmp/fastcgi_temp;
  uwsgi_temp_path /tmp/uwsgi_temp;
  scgi_temp_path /tmp/scgi_temp;
  tcp_nodelay on;
"""

LOCATION = """
    location {loc} {{
      proxy_pass http://{upstream}{target};
      proxy_set_header Host {host};
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
      proxy_request_buffering off;
    }}
"""


def nginx_locations():
    out = LOCATION.format(loc="/", upstream="portal", target="/", host="$host")
    for loc in ("/c/", "/api/", "/chartrepo/", "/service/"):
        out += LOCATION.format(loc=loc, upstream="core", target=loc, host="$host")
    out += LOCATION.format(loc="/v2/", upstream="core", target="/v2/", host="$http_host")
    out += """
    location /v1/ {
      return 404;
    }

    location /service/notifications {
      return 404;
    }
"""
    return out


def listen(c, port, extra=""):
    lines = []
    if c["ipv4"]:
        lines.append(f"    listen {port}{extra};")
    if c["ipv6"]:
        lines.append(f"    listen [::]:{port}{extra};")
    return "\n".join(lines)


def prepare_nginx(c):
    conf = NGINX_COMMON.format(level="warn" if c["log_level"] != "debug" else "debug")
    conf += """
  # this is necessary for us to be able to disable request buffering in all cases
  proxy_http_version 1.1;

  upstream core {
    server core:8080;
  }

  upstream portal {
    server portal:8080;
  }

  log_format timed_combined '$remote_addr - '
    '"$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" '
    '$request_time $upstream_response_time $pipe';

  access_log /dev/stdout timed_combined;

  map $http_x_forwarded_proto $x_forwarded_proto {
    default $http_x_forwarded_proto;
    ""      $scheme;
  }
"""
    if c["protocol"] == "https":
        redirect = "https://$host$request_uri" if c["https_port"] == 443 else f"https://$host:{c['https_port']}$request_uri"
        ciphers = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
                   "ECDHE-RSA-CHACHA20-POLY1305" if c.get("strong_ssl_ciphers") else
                   "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                   "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
        conf += f"""
  include /etc/nginx/conf.d/*.upstream.conf;

  server {{
{listen(c, 8443, ' ssl http2')}
    server_tokens off;
    # disable any limits to avoid HTTP 413 for large image uploads
    client_max_body_size 0;

    # SSL
    ssl_certificate /etc/cert/server.crt;
    ssl_certificate_key /etc/cert/server.key;

    # Recommendations from https://raymii.org/s/tutorials/Strong_SSL_Security_On_nginx.html
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers '{ciphers}';
    ssl_prefer_server_ciphers on;
    ssl_session_cache shared:SSL:10m;

    # disable any limits to avoid HTTP 413 for large image uploads
    chunked_transfer_encoding on;

    # Add extra headers
    add_header Strict-Transport-Security "max-age=31536000; includeSubdomains; preload";
    add_header X-Frame-Options DENY;
    add_header Content-Security-Policy "frame-ancestors 'none'";

    # customized location config file can place to /etc/nginx/etc with prefix harbor.https. and suffix .conf
    include /etc/nginx/conf.d/harbor.https.*.conf;
{nginx_locations()}  }}

  server {{
{listen(c, 8080)}
    #server_name harbordomain.com;
    return 308 {redirect};
  }}
"""
    else:
        conf += f"""
  server {{
{listen(c, 8080)}
    server_tokens off;
    # disable any limits to avoid HTTP 413 for large image uploads
    client_max_body_size 0;

    # customized location config file can place to /etc/nginx/etc with prefix harbor.http. and suffix .conf
    include /etc/nginx/conf.d/harbor.http.*.conf;
{nginx_locations()}  }}
"""
    if c["metric"]["enabled"]:
        conf += f"""
  server {{
{listen(c, 9090)}
    location = {c['metric']['path']} {{
      proxy_pass http://exporter:8080/metrics;
    }}
  }}
"""
    conf += "}\n"
    write(f"{CONFIG_DIR}/nginx/nginx.conf", conf)
    mkdir(f"{CONFIG_DIR}/nginx/conf.d")


def prepare_portal(c):
    conf = NGINX_COMMON.format(level="warn") + """
  server {
    listen 8080;
    server_name  localhost;

    root   /usr/share/nginx/html;
    index  index.html index.htm;
    include /etc/nginx/mime.types;
    access_log /dev/stdout;

    gzip on;
    gzip_min_length 1000;
    gzip_proxied expired no-cache no-store private auth;
    gzip_types text/plain text/css application/json application/javascript application/x-javascript text/xml application/xml application/xml+rss text/javascript;

    location /devcenter-api-2.0 {
      try_files $uri $uri/ /swagger-ui-index.html;
    }

    location / {
      try_files $uri $uri/ /index.html;
    }

    location = /index.html {
      add_header Cache-Control "no-store, no-cache, must-revalidate";
    }
  }
}
"""
    write(f"{CONFIG_DIR}/portal/nginx.conf", conf)


def prepare_log(c):
    write(f"{CONFIG_DIR}/log/logrotate.conf", f"""/var/log/docker/*.log {{
    rotate {c['log_rotate_count']}
    size {c['log_rotate_size']}
    copytruncate
    compress
    missingok
    nodateext
}}
""")
    # log.external_endpoint: harbor-log forwards there instead of writing files
    if c["log_external"]:
        action = (f'action(type="omfwd" Target="{c["log_ep_host"]}" Port="{c["log_ep_port"]}" '
                  f'Protocol="{c["log_ep_protocol"]}" Template="RSYSLOG_SyslogProtocol23Format")')
    else:
        action = 'action(type="omfile" dynaFile="DynaFile")'
    write(f"{CONFIG_DIR}/log/rsyslog_docker.conf", f"""# Rsyslog configuration file for docker.

template(name="DynaFile" type="string" string="/var/log/docker/%programname%.log")

if $programname != "rsyslogd" then {{
  {action}
}}
""")


def prepare_core(c):
    write(f"{CONFIG_DIR}/core/app.conf", """appname = Harbor
runmode = prod
enablegzip = true

[prod]
httpport = 8080
""")
    pairs = [("CONFIG_PATH", "/etc/core/app.conf"), ("UAA_CA_ROOT", "/etc/core/certificates/uaa_ca.pem"),
             ("_REDIS_URL_CORE", redis_url(c, 0)), ("SYNC_QUOTA", "true"),
             ("_REDIS_URL_REG", redis_url(c, c["redis_registry_db"])), ("LOG_LEVEL", c["log_level"]),
             ("EXT_ENDPOINT", c["public_url"]), ("DATABASE_TYPE", "postgresql"),
             ("POSTGRESQL_HOST", c["db_host"]), ("POSTGRESQL_PORT", c["db_port"]),
             ("POSTGRESQL_USERNAME", c["db_user"]), ("POSTGRESQL_PASSWORD", c["db_password"]),
             ("POSTGRESQL_DATABASE", c["db_name"]), ("POSTGRESQL_SSLMODE", c["db_sslmode"]),
             ("POSTGRESQL_MAX_IDLE_CONNS", c["db_max_idle"]), ("POSTGRESQL_MAX_OPEN_CONNS", c["db_max_open"]),
             ("REGISTRY_URL", c["registry_url"]), ("PORTAL_URL", c["portal_url"]),
             ("TOKEN_SERVICE_URL", c["token_service_url"]), ("HARBOR_ADMIN_PASSWORD", c["harbor_admin_password"]),
             ("MAX_JOB_WORKERS", c["max_job_workers"]), ("CORE_SECRET", c["core_secret"]),
             ("JOBSERVICE_SECRET", c["jobservice_secret"]), ("WITH_TRIVY", c["with_trivy"]),
             ("CORE_URL", c["core_url"]), ("CORE_LOCAL_URL", c["core_local_url"]),
             ("JOBSERVICE_URL", c["jobservice_url"]), ("TRIVY_ADAPTER_URL", c["trivy_adapter_url"]),
             ("REGISTRY_STORAGE_PROVIDER_NAME", c["storage_provider_name"]), ("READ_ONLY", "false"),
             ("RELOAD_KEY", ""), ("REGISTRY_CONTROLLER_URL", c["registry_controller_url"]),
             ("REGISTRY_CREDENTIAL_USERNAME", c["registry_username"]),
             ("REGISTRY_CREDENTIAL_PASSWORD", c["registry_password"]), ("CSRF_KEY", c["csrf_key"]),
             ("ROBOT_SCANNER_NAME_PREFIX", rand(8)),
             ("PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE", "docker-hub,harbor,azure-acr,ali-acr,aws-ecr,google-gcr,"
              "quay,docker-registry,github-ghcr,jfrog-artifactory"),
             ("REPLICATION_ADAPTER_WHITELIST", "ali-acr,aws-ecr,azure-acr,docker-hub,docker-registry,github-ghcr,"
              "google-gcr,harbor,huawei-SWR,jfrog-artifactory,tencent-tcr,volcengine-cr"),
             ("QUOTA_UPDATE_PROVIDER", c["quota_update_provider"]),
             ("CACHE_ENABLED", str(c["cache"]["enabled"]).lower()),
             ("CACHE_EXPIRE_HOURS", c["cache"]["expire_hours"]),
             ("TOKEN_ISSUER", "harbor-token-issuer"), ("TOKEN_SERVICE_NAME", "harbor-registry"),
             ("PORT", 8080)] + proxy_env(c, "core")
    if c["metric"]["enabled"]:
        pairs += [("METRIC_ENABLE", "true"), ("METRIC_PATH", c["metric"]["path"]), ("METRIC_PORT", 8001),
                  ("METRIC_NAMESPACE", "harbor"), ("METRIC_SUBSYSTEM", "core")]
    write(f"{CONFIG_DIR}/core/env", env_text(pairs), 0o600)
    mkdir(f"{CONFIG_DIR}/core/certificates")


def prepare_db(c):
    if c["external_database"]:
        return
    write(f"{CONFIG_DIR}/db/env", env_text([("POSTGRES_PASSWORD", c["db_password"]),
                                              ("POSTGRES_MAX_CONNECTIONS", 1024)]), 0o600, PG_UID, PG_GID)


def prepare_registry(c):
    name, pconf = c["storage_provider_name"], c["storage_provider_config"]
    storage = {"cache": {"layerinfo": "redis"}}
    if name == "filesystem":
        fs = {"rootdirectory": "/storage"}
        if isinstance(pconf, dict):
            fs.update({k: v for k, v in pconf.items() if k != "rootdirectory"})
        storage["filesystem"] = fs
    else:
        storage[name] = pconf if isinstance(pconf, dict) else {}
    up = c["upload_purging"]
    storage["maintenance"] = {"uploadpurging": {"enabled": up["enabled"], "age": up["age"],
                                                "interval": up["interval"], "dryrun": up["dryrun"]}
                              if up["enabled"] else {"enabled": False}}
    storage["delete"] = {"enabled": True}
    storage["redirect"] = {"disable": c["storage_redirect_disabled"]}
    redis_cfg = {"addr": f"{c['redis_host']}:{c['redis_port']}", "db": c["redis_registry_db"],
                 "readtimeout": "10s", "writetimeout": "10s", "dialtimeout": "10s",
                 "pool": {"maxidle": 100, "maxactive": 500, "idletimeout": "60s"}}
    if c["redis_password"]:
        redis_cfg["password"] = c["redis_password"]
    conf = {
        "version": 0.1,
        "log": {"level": {"warning": "warn", "fatal": "error"}.get(c["log_level"], c["log_level"]),
                "fields": {"service": "registry"}},
        "storage": storage,
        "redis": redis_cfg,
        "http": {"addr": ":5000", "secret": c["registry_http_secret"], "debug": {"addr": "localhost:5001"}},
        # The stand-in's registry checks Harbor's tokens itself (the real one
        # trusts core through htpasswd, and core checks the tokens).
        "auth": {"token": {"realm": f"{c['public_url']}/service/token", "service": "harbor-registry",
                           "issuer": "harbor-token-issuer", "rootcertbundle": "/etc/registry/root.crt",
                           "autoredirect": False}},
        "validation": {"disabled": True},
        "compatibility": {"schema1": {"enabled": True}},
        "notifications": {"endpoints": [{
            "name": "harbor", "disabled": False, "url": f"{c['core_url']}/service/notifications",
            "timeout": "3000ms", "threshold": 5, "backoff": "1s",
            "ignoredmediatypes": ["application/vnd.docker.image.rootfs.diff.tar.gzip",
                                  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                                  "application/vnd.oci.image.layer.v1.tar",
                                  "application/vnd.oci.image.layer.v1.tar+gzip",
                                  "application/vnd.oci.image.layer.v1.tar+zstd",
                                  "application/octet-stream"]}]},
    }
    write(f"{CONFIG_DIR}/registry/config.yml", ydump(conf))
    salt = crypt.mksalt(crypt.METHOD_BLOWFISH) if crypt.METHOD_BLOWFISH in crypt.methods else crypt.mksalt()
    write(f"{CONFIG_DIR}/registry/passwd", f"{c['registry_username']}:{crypt.crypt(c['registry_password'], salt)}\n")
    write(f"{CONFIG_DIR}/registry/env", env_text(proxy_env(c, "registry")))


def prepare_registryctl(c):
    write(f"{CONFIG_DIR}/registryctl/config.yml", ydump({
        "protocol": "http", "port": 8080, "log_level": c["log_level"],
        "registry_config": "/etc/registry/config.yml"}))
    write(f"{CONFIG_DIR}/registryctl/env", env_text([
        ("CORE_SECRET", c["core_secret"]), ("JOBSERVICE_SECRET", c["jobservice_secret"]),
        ("REGISTRY_REDIS_PASSWORD", c["redis_password"])]),
        0o600)


def prepare_jobservice(c):
    mkdir(f"{CONFIG_DIR}/jobservice")
    loggers = []
    for name in c["job_loggers"]:
        entry = {"name": name, "level": c["log_level"].upper()}
        if name == "FILE":
            entry["settings"] = {"base_dir": "/var/log/jobs"}
            entry["sweeper"] = {"duration": c["logger_sweeper_duration"], "settings": {"work_dir": "/var/log/jobs"}}
        elif name == "DB":
            entry["sweeper"] = {"duration": c["logger_sweeper_duration"]}
        loggers.append(entry)
    write(f"{CONFIG_DIR}/jobservice/config.yml", ydump({
        "protocol": "http", "port": 8080,
        "worker_pool": {"workers": c["max_job_workers"], "backend": "redis",
                        "redis_pool": {"redis_url": redis_url(c, c["redis_jobservice_db"]), "namespace": "harbor_job_service_namespace",
                                       "idle_timeout_second": 3600}},
        "job_loggers": loggers,
        "loggers": [{"name": "STD_OUTPUT", "level": c["log_level"].upper()}],
        "reaper": {"max_update_hours": c["max_job_duration_hours"], "max_dangling_hours": 168},
        "max_retrieve_size_mb": 10,
    }))
    write(f"{CONFIG_DIR}/jobservice/env", env_text([
        ("CORE_SECRET", c["core_secret"]), ("REGISTRY_URL", c["registry_url"]),
        ("JOBSERVICE_SECRET", c["jobservice_secret"]), ("CORE_URL", c["core_url"]),
        ("REGISTRY_CONTROLLER_URL", c["registry_controller_url"]), ("JOBSERVICE_WEBHOOK_JOB_MAX_RETRY",
                                                                     c["webhook_job_max_retry"]),
        ("JOBSERVICE_WEBHOOK_JOB_HTTP_CLIENT_TIMEOUT", c["webhook_job_http_client_timeout"]),
        ("LOG_LEVEL", c["log_level"])] + proxy_env(c, "jobservice")), 0o600)


def prepare_trivy(c):
    t = c["trivy"]
    write(f"{CONFIG_DIR}/trivy-adapter/env", env_text([
        ("SCANNER_LOG_LEVEL", c["log_level"]), ("SCANNER_REDIS_URL", redis_url(c, c["redis_trivy_db"])),
        ("SCANNER_STORE_REDIS_URL", redis_url(c, c["redis_trivy_db"])),
        ("SCANNER_STORE_REDIS_NAMESPACE", "harbor.scanner.trivy:store"),
        ("SCANNER_JOB_QUEUE_REDIS_URL", redis_url(c, c["redis_trivy_db"])),
        ("SCANNER_JOB_QUEUE_REDIS_NAMESPACE", "harbor.scanner.trivy:job-queue"),
        ("SCANNER_TRIVY_CACHE_DIR", "/home/scanner/.cache/trivy"),
        ("SCANNER_TRIVY_REPORTS_DIR", "/home/scanner/.cache/reports"),
        ("SCANNER_TRIVY_VULN_TYPE", "os,library"), ("SCANNER_TRIVY_SECURITY_CHECKS", t["security_check"]),
        ("SCANNER_TRIVY_SEVERITY", "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL"),
        ("SCANNER_TRIVY_IGNORE_UNFIXED", str(t["ignore_unfixed"]).lower()),
        ("SCANNER_TRIVY_SKIP_UPDATE", str(t["skip_update"]).lower()),
        ("SCANNER_TRIVY_SKIP_JAVA_DB_UPDATE", str(t["skip_java_db_update"]).lower()),
        ("SCANNER_TRIVY_DB_REPOSITORY", t["db_repository"]),
        ("SCANNER_TRIVY_JAVA_DB_REPOSITORY", t["java_db_repository"]),
        ("SCANNER_TRIVY_OFFLINE_SCAN", str(t["offline_scan"]).lower()),
        ("SCANNER_TRIVY_GITHUB_TOKEN", t["github_token"]), ("SCANNER_TRIVY_INSECURE", str(t["insecure"]).lower()),
        ("SCANNER_TRIVY_TIMEOUT", t["timeout"]), ("SCANNER_API_SERVER_ADDR", ":8080")] + proxy_env(c, "trivy")),
        0o600)


def prepare_exporter(c):
    write(f"{CONFIG_DIR}/exporter/env", env_text([
        ("LOG_LEVEL", c["log_level"]), ("HARBOR_EXPORTER_PORT", 8080), ("HARBOR_EXPORTER_METRICS_PATH",
                                                                         c["metric"]["path"]),
        ("HARBOR_EXPORTER_METRICS_ENABLED", "true"), ("HARBOR_SERVICE_HOST", "core"),
        ("HARBOR_REDIS_URL", redis_url(c, 0)), ("HARBOR_SERVICE_PORT", 8080), ("HARBOR_SERVICE_SCHEME", "http"),
        ("HARBOR_DATABASE_HOST", c["db_host"]), ("HARBOR_DATABASE_PORT", c["db_port"]),
        ("HARBOR_DATABASE_USERNAME", c["db_user"]), ("HARBOR_DATABASE_PASSWORD", c["db_password"]),
        ("HARBOR_DATABASE_DBNAME", c["db_name"]), ("HARBOR_DATABASE_SSLMODE", c["db_sslmode"])]), 0o600)


# ---------------------------------------------------------------- compose
def logging_opts(c, tag):
    return {"driver": "syslog", "options": {"syslog-address": SYSLOG, "tag": tag}}


def bind(src, dst):
    return {"type": "bind", "source": src, "target": dst}


def prepare_compose(c):
    dv, tag = c["data_volume"], VERSION
    logs = True  # harbor-log always runs (an external endpoint is rsyslog forwarding)
    svc = {}

    def base(image, name, caps=("CHOWN", "SETGID", "SETUID"), tagname=None):
        s = {"image": f"goharbor/{image}:{tag}", "container_name": name, "restart": "always", "cap_drop": ["ALL"]}
        if caps:
            s["cap_add"] = list(caps)
        return s

    if logs:
        s = base("harbor-log", "harbor-log", ("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"))
        s.update({"dns_search": ".", "volumes": [
            f"{c['log_location']}/:/var/log/docker/:z",
            bind("./common/config/log/logrotate.conf", "/etc/logrotate.d/logrotate.conf"),
            bind("./common/config/log/rsyslog_docker.conf", "/etc/rsyslog.d/rsyslog_docker.conf")],
            "ports": ["127.0.0.1:1514:10514"], "networks": ["harbor"]})
        svc["log"] = s
    dep_log = ["log"] if logs else []

    s = base("registry-photon", "registry")
    s.update({"volumes": [f"{dv}/registry:/storage:z", "./common/config/registry/:/etc/registry/:z",
                          bind(f"{dv}/secret/registry/root.crt", "/etc/registry/root.crt"),
                          bind("./common/config/shared/trust-certificates", "/harbor_cust_cert")],
              "networks": ["harbor"], "dns_search": ".", "env_file": ["./common/config/registry/env"]})
    if dep_log:
        s["depends_on"] = list(dep_log)
    s["logging"] = logging_opts(c, "registry")
    svc["registry"] = s

    s = base("harbor-registryctl", "registryctl")
    s.update({"env_file": ["./common/config/registryctl/env"],
              "volumes": [f"{dv}/registry:/storage:z", "./common/config/registry/:/etc/registry/:z",
                          bind("./common/config/registryctl/config.yml", "/etc/registryctl/config.yml"),
                          bind("./common/config/shared/trust-certificates", "/harbor_cust_cert")],
              "networks": ["harbor"], "dns_search": "."})
    if dep_log:
        s["depends_on"] = list(dep_log)
    s["logging"] = logging_opts(c, "registryctl")
    svc["registryctl"] = s

    if not c["external_database"]:
        s = base("harbor-db", "harbor-db", ("CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"))
        s.update({"volumes": [f"{dv}/database:/var/lib/postgresql/data:z"], "networks": {"harbor": None},
                  "dns_search": ".", "env_file": ["./common/config/db/env"]})
        if dep_log:
            s["depends_on"] = list(dep_log)
        s["logging"] = logging_opts(c, "postgresql")
        s["shm_size"] = "1gb"
        svc["postgresql"] = s

    s = base("harbor-core", "harbor-core", ("SETGID", "SETUID"))
    vols = [f"{dv}/ca_download/:/etc/core/ca/:z", f"{dv}/:/data/:z",
            bind("./common/config/core/certificates/", "/etc/core/certificates/"),
            bind("./common/config/core/app.conf", "/etc/core/app.conf"),
            bind(f"{dv}/secret/core/private_key.pem", "/etc/core/private_key.pem"),
            bind(f"{dv}/secret/keys/secretkey", "/etc/core/key"),
            bind("./common/config/shared/trust-certificates", "/harbor_cust_cert")]
    if c["uaa_ca_file"]:
        vols.append(bind(c["uaa_ca_file"], "/etc/core/certificates/uaa_ca.pem"))
    s.update({"env_file": ["./common/config/core/env"], "volumes": vols, "networks": {"harbor": None},
              "dns_search": ".", "depends_on": dep_log + ["registry"] + ([] if c["external_redis"] else ["redis"])
              + ([] if c["external_database"] else ["postgresql"])})
    s["logging"] = logging_opts(c, "core")
    svc["core"] = s

    s = base("harbor-portal", "harbor-portal", ("CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"))
    s.update({"volumes": [bind("./common/config/portal/nginx.conf", "/etc/nginx/nginx.conf")],
              "networks": ["harbor"], "dns_search": "."})
    if dep_log:
        s["depends_on"] = list(dep_log)
    s["logging"] = logging_opts(c, "portal")
    svc["portal"] = s

    s = base("harbor-jobservice", "harbor-jobservice")
    s.update({"env_file": ["./common/config/jobservice/env"],
              "volumes": [f"{dv}/job_logs:/var/log/jobs:z",
                          bind("./common/config/jobservice/config.yml", "/etc/jobservice/config.yml"),
                          bind("./common/config/shared/trust-certificates", "/harbor_cust_cert")],
              "networks": ["harbor"], "dns_search": ".", "depends_on": ["core"]})
    s["logging"] = logging_opts(c, "jobservice")
    svc["jobservice"] = s

    if not c["external_redis"]:
        s = base(REDIS_IMAGE, "redis")
        s.update({"volumes": [f"{dv}/redis:/var/lib/redis"], "networks": {"harbor": None}, "dns_search": "."})
        if dep_log:
            s["depends_on"] = list(dep_log)
        s["logging"] = logging_opts(c, "redis")
        svc["redis"] = s

    s = base("nginx-photon", "nginx", ("CHOWN", "SETGID", "SETUID", "NET_BIND_SERVICE"))
    vols = ["./common/config/nginx:/etc/nginx:z"]
    if c["protocol"] == "https":
        vols.append(bind(f"{dv}/secret/cert", "/etc/cert"))
    vols.append(bind("./common/config/shared/trust-certificates", "/harbor_cust_cert"))
    ports = [f"{c['http_port']}:8080"]
    if c["protocol"] == "https":
        ports.append(f"{c['https_port']}:8443")
    if c["metric"]["enabled"]:
        ports.append(f"{c['metric']['port']}:9090")
    s.update({"volumes": vols, "networks": ["harbor"], "dns_search": ".", "ports": ports,
              "depends_on": ["registry", "core", "portal"] + dep_log})
    s["logging"] = logging_opts(c, "proxy")
    svc["proxy"] = s

    if c["with_trivy"]:
        s = base("trivy-adapter-photon", "trivy-adapter", caps=())
        s.update({"dns_search": ".", "networks": ["harbor"],
                  "volumes": [bind(f"{dv}/trivy-adapter/trivy", "/home/scanner/.cache/trivy"),
                              bind(f"{dv}/trivy-adapter/reports", "/home/scanner/.cache/reports"),
                              bind("./common/config/shared/trust-certificates", "/harbor_cust_cert")],
                  "env_file": ["./common/config/trivy-adapter/env"]})
        deps = dep_log + ([] if c["external_redis"] else ["redis"])
        if deps:
            s["depends_on"] = deps
        s["logging"] = logging_opts(c, "trivy-adapter")
        svc["trivy-adapter"] = s

    if c["metric"]["enabled"]:
        s = base("harbor-exporter", "harbor-exporter", caps=())
        s.update({"env_file": ["./common/config/exporter/env"], "networks": ["harbor"], "dns_search": ".",
                  "volumes": [bind("./common/config/shared/trust-certificates", "/harbor_cust_cert")],
                  "depends_on": ["core"]})
        s["logging"] = logging_opts(c, "exporter")
        svc["exporter"] = s

    compose = {"version": "2.3", "services": svc, "networks": {"harbor": {"external": False}}}
    write(f"{COMPOSE_DIR}/docker-compose.yml", ydump(compose), 0o644, 0, 0)


# ---------------------------------------------------------------- commands
def cmd_prepare(argv):
    conf, with_trivy = INPUT, False
    it = iter(argv)
    for arg in it:
        if arg == "--conf":
            conf = next(it, INPUT)
        elif arg.startswith("--conf="):
            conf = arg.split("=", 1)[1]
        elif arg == "--with-trivy":
            with_trivy = True
        elif arg in ("--help", "-h"):
            print("Usage: main.py prepare [OPTIONS]\n\nOptions:\n  --conf TEXT   the path of Harbor configuration "
                  "file\n  --with-trivy  the Harbor instance is to be deployed with Trivy\n  --help        Show this "
                  "message and exit.")
            return 0
        else:
            print(f"Usage: main.py prepare [OPTIONS]\nTry 'main.py prepare --help' for help.\n\n"
                  f"Error: No such option: {arg}", file=sys.stderr)
            return 2
    clean_config_dir()
    try:
        c = parse(conf, with_trivy)
        validate(c)
    except ValidationError as exc:
        print("Error happened in config validation...", flush=True)
        print(f"ERROR:root:{exc}", file=sys.stderr, flush=True)
        return 255
    except ParseError as exc:
        print(f"ERROR:root:{exc}", file=sys.stderr, flush=True)
        return 1
    if c["protocol"] == "http":
        print("WARNING:root:WARNING: HTTP protocol is insecure. Harbor will deprecate http protocol in the future. "
              "Please make sure to upgrade to https", file=sys.stderr)
    prepare_data_dirs(c)
    mkdir(CONFIG_DIR, 0, 0)
    prepare_portal(c)
    prepare_log(c)
    prepare_nginx(c)
    prepare_core(c)
    prepare_registry(c)
    prepare_registryctl(c)
    prepare_db(c)
    prepare_jobservice(c)
    mkdir(f"{CONFIG_DIR}/shared/trust-certificates")
    prepare_secrets(c)
    if c["metric"]["enabled"]:
        prepare_exporter(c)
    if with_trivy:
        prepare_trivy(c)
    prepare_compose(c)
    return 0


def vparse(v):
    return tuple(int(x) for x in str(v).split(".") if x.isdigit())


def cmd_migrate(argv):
    inp, out, target = None, "", CFG_VERSION
    it = iter(argv)
    for arg in it:
        if arg in ("-i", "--input"):
            inp = next(it, None)
        elif arg in ("-o", "--output"):
            out = next(it, "")
        elif arg in ("-t", "--target"):
            target = next(it, target)
        elif arg == "--help":
            print("Usage: main.py migrate [OPTIONS]\n\nOptions:\n  -i, --input TEXT   The path of original config "
                  "file  [required]\n  -o, --output TEXT  the path of output config file\n  -t, --target TEXT  "
                  f"target version of input path (default {CFG_VERSION})\n  --help             Show this message "
                  "and exit.")
            return 0
        else:
            print(f"Error: No such option: {arg}", file=sys.stderr)
            return 2
    if not inp:
        print("Error: Missing option '-i' / '--input'.", file=sys.stderr)
        return 2
    if target not in ACCEPT_VERSIONS or vparse(target) > vparse(CFG_VERSION):
        print(f"target version {target} not supported")
        return 255
    in_path = host_path(inp)
    out_path = host_path(out or inp)
    with open(in_path) as fh:
        cfg = yaml.safe_load(fh) or {}
    iv = str(cfg.get("_version", ""))
    if not iv or vparse(iv) < (1, 9, 0):
        print(f"the version {iv} not supported, make sure the version in input file above 1.8.0")
        return 255
    if iv == target:
        print(f"Version of input harbor.yml is identical to target {iv}, no need to upgrade")
        return 0
    for v in ACCEPT_VERSIONS:
        if vparse(iv) < vparse(v) <= vparse(target):
            print(f"migrating to version {v}")
    # Harbor's migrations re-render the whole file (comments are lost); the
    # stand-in keeps every value and sets the new _version.
    cfg["_version"] = target
    if vparse(target) >= (2, 15, 0) and isinstance(cfg.get("trivy"), dict):
        cfg["trivy"].setdefault("db_repository", "ghcr.io/aquasecurity/trivy-db")
        cfg["trivy"].setdefault("java_db_repository", "ghcr.io/aquasecurity/trivy-java-db")
    text = ydump(cfg)
    if os.path.exists(out_path):
        with open(out_path, "w") as fh:  # keeps the file's owner and mode
            fh.write(text)
    else:
        with open(out_path, "w") as fh:
            fh.write(text)
    print(f"Written new values to {out or inp}")
    return 0


def main(argv):
    if not argv or argv[0] in ("--help", "-h"):
        print("Usage: main.py [OPTIONS] COMMAND [ARGS]...\n\nCommands:\n  migrate\n  prepare")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "prepare":
        return cmd_prepare(rest)
    if cmd == "migrate":
        return cmd_migrate(rest)
    if cmd == "gencert":
        print("gencert is not supported by the stand-in", file=sys.stderr)
        return 2
    # like the real image, options alone mean prepare
    if cmd.startswith("--"):
        return cmd_prepare(argv)
    print(f"Error: No such command '{cmd}'.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
