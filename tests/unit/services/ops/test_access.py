"""The operator rule without a broker: loopback is open; off loopback everything but the probes needs the
token, and a process without one refuses to start. Checked on the monitor (FastAPI) and on a Faust app's
aiohttp server, the two kinds of operator surface."""

from __future__ import annotations

import asyncio
import stat

import pytest
from fastapi.testclient import TestClient

from services.cli.main import main
from services.errors import ConfigurationError
from services.ops.access import OpsAccess, client_headers, ensure_token, guard_faust_web, is_loopback, read_token
from services.ops.monitor import create_app
from services.settings import DeliverySettings, MonitorSettings, Settings
from tests.support import PROJECT_ROOT

TOKEN = "t" * 43


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings with a home of their own and an operator token in it."""
    settings = Settings(home=tmp_path, kafka_security_protocol="PLAINTEXT")
    settings.ops_token_path.parent.mkdir(parents=True)
    settings.ops_token_path.write_text(TOKEN + "\n")
    return settings


def exposed_monitor(settings: Settings, host: str = "0.0.0.0") -> Settings:
    return settings.model_copy(update={"monitor": MonitorSettings(host=host)})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.1.2.3", False),
        ("monitor.internal", False),
    ],
)
def test_only_loopback_addresses_count_as_local(host, loopback):
    assert is_loopback(host) is loopback


def test_ops_token_is_created_once_private_and_rotated_on_request(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MATCHMAKER_HOME", str(tmp_path))
    path = tmp_path / "security" / "ops-token"
    assert main(["ops-token"]) == 0
    assert capsys.readouterr().out == f"{path}\n"
    first = read_token(path)
    assert first and len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert main(["ops-token"]) == 0 and read_token(path) == first  # first use only
    assert main(["ops-token", "--rotate"]) == 0
    assert read_token(path) not in (None, first) and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not ensure_token(path)


def test_the_rule(settings):
    access = OpsAccess.for_host(settings, "0.0.0.0", "monitor")
    assert not access.open
    assert access.check("/healthz", None) is None and access.check("/readyz", None) is None
    missing = access.check("/metrics", None)
    assert missing is not None and missing.challenge == "Bearer"
    wrong = access.check("/metrics", "Bearer " + "x" * 43)
    assert wrong is not None and "invalid_token" in wrong.challenge
    assert access.check("/metrics", "Basic " + TOKEN) is not None
    assert access.check("/metrics", "Bearer ünïcode") is not None  # no TypeError from compare_digest
    assert access.check("/metrics", "Bearer " + TOKEN) is None
    assert access.check("/healthz/../metrics", None) is not None
    assert OpsAccess.for_host(settings, "127.0.0.1", "monitor").check("/metrics", None) is None
    assert client_headers(settings) == bearer(TOKEN)  # what the monitor sends when it scrapes workers


def test_an_exposed_surface_without_a_token_refuses_to_start(tmp_path):
    bare = Settings(home=tmp_path, kafka_security_protocol="PLAINTEXT")
    with pytest.raises(ConfigurationError, match=r"not loopback.*ops-token.*missing.*matchmaker ops-token"):
        OpsAccess.for_host(bare, "0.0.0.0", "monitor")
    with pytest.raises(ConfigurationError):
        create_app(exposed_monitor(bare), start=False)
    bare.ops_token_path.parent.mkdir(parents=True)
    bare.ops_token_path.write_text("\n")
    with pytest.raises(ConfigurationError, match="missing or empty"):
        OpsAccess.for_host(bare, "10.0.0.5", "worker's web server")
    bare.ops_token_path.write_text("short")
    with pytest.raises(ConfigurationError, match="shorter than 16"):
        OpsAccess.for_host(bare, "10.0.0.5", "worker's web server")
    assert OpsAccess.for_host(bare, "127.0.0.1", "monitor").open  # loopback needs none
    bare.ops_token_path.unlink()
    bare.ops_token_path.mkdir()  # unreadable as a file: a clear message, not a traceback
    with pytest.raises(ConfigurationError, match="cannot read the operator token"):
        OpsAccess.for_host(bare, "10.0.0.5", "monitor")
    assert client_headers(bare) == {}


def test_the_monitor_command_refuses_an_exposed_port_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATCHMAKER_HOME", str(tmp_path))
    monkeypatch.setenv("MATCHMAKER_OPS_TOKEN_FILE", str(tmp_path / "mounted" / "token"))
    assert main(["monitor", "--host", "0.0.0.0", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("matchmaker: the monitor would listen on 0.0.0.0") and err.count("\n") == 1
    assert str(tmp_path / "mounted" / "token") in err


def test_exposed_monitor_needs_the_token_except_for_probes(settings):
    with TestClient(create_app(exposed_monitor(settings), start=False)) as client:
        for path in ("/metrics", "/", "/api/state", "/static/monitor.js"):
            assert client.get(path).status_code == 401, path
            assert client.get(path, headers=bearer("y" * 43)).status_code == 401, path
            assert client.get(path, headers=bearer(TOKEN)).status_code == 200, path
        denied = client.get("/metrics")
        assert denied.headers["www-authenticate"] == "Bearer" and "operator token" in denied.json()["detail"]
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503  # open, and not ready: never sampled the broker


def test_loopback_monitor_is_open(settings):
    with TestClient(create_app(exposed_monitor(settings, "127.0.0.1"), start=False)) as client:
        assert client.get("/metrics").status_code == 200 and client.get("/").status_code == 200


def faust_app(settings: Settings, host: str):
    """A Faust app as the worker and notifier make theirs, with a probe and a metrics page."""
    from services.kafka.faust_app import make_app

    app = make_app(settings, "access-test", 1, 6066, host, store="memory")
    access = guard_faust_web(app, settings, host, "worker's web server")

    async def healthz(view, request):
        return view.json({"status": "ok"})

    async def metrics(view, request):
        return view.text("matchmaker_events_consumed_total 1.0\n")

    app.page("/healthz")(healthz)
    app.page("/metrics")(metrics)
    return app, access


def faust_statuses(app, requests: list[tuple[str, dict[str, str]]]) -> list[int]:
    """GET each (path, headers) from the app's aiohttp server, served on a free loopback port."""
    from aiohttp.test_utils import TestClient as AiohttpClient
    from aiohttp.test_utils import TestServer

    async def run() -> list[int]:
        async with AiohttpClient(TestServer(app.web.web_app)) as client:
            return [(await client.get(path, headers=headers)).status for path, headers in requests]

    return asyncio.run(run())


def test_exposed_faust_web_server_needs_the_token_except_for_probes(settings):
    app, access = faust_app(settings, "0.0.0.0")
    assert not access.open and app.conf.web_bind == "0.0.0.0"
    statuses = faust_statuses(
        app,
        [
            ("/metrics", {}),
            ("/metrics", bearer("z" * 43)),
            ("/metrics", bearer(TOKEN)),
            ("/table/", {}),  # Faust's own table views
            ("/healthz", {}),
        ],
    )
    assert statuses[:4] == [401, 401, 200, 401] and statuses[4] == 200


def test_loopback_faust_web_server_is_bound_to_loopback_and_open(settings):
    app, access = faust_app(settings, "127.0.0.1")
    assert access.open and app.conf.web_bind == "127.0.0.1"  # Faust's own default is every interface
    assert faust_statuses(app, [("/metrics", {}), ("/healthz", {})]) == [200, 200]


def test_worker_and_notifier_refuse_an_exposed_web_server_without_a_token(tmp_path):
    from services.delivery.notifier import Notifier
    from services.stream.worker import MatchWorker

    bare = Settings(home=tmp_path, kafka_security_protocol="PLAINTEXT")
    with pytest.raises(ConfigurationError, match="worker's web server"):
        MatchWorker(bare.model_copy(update={"worker_web_host": "0.0.0.0"}))
    with pytest.raises(ConfigurationError, match="notifier's web server"):
        Notifier(bare.model_copy(update={"delivery": DeliverySettings(notifier_web_host="0.0.0.0")}), 1)
    worker = MatchWorker(bare)
    assert worker.app.conf.web_bind == "127.0.0.1"


def test_deploy_files_take_the_token_from_a_secret_file():
    yaml = pytest.importorskip("yaml")
    deploy = PROJECT_ROOT / "deploy"
    prometheus = yaml.safe_load((deploy / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job["authorization"] for job in prometheus["scrape_configs"]}
    assert set(jobs) == {"matchmaker-monitor", "matchmaker-worker"}
    assert all(set(auth) == {"type", "credentials_file"} and auth["type"] == "Bearer" for auth in jobs.values())
    docs = [d for f in sorted((deploy / "k8s").glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    for doc in (d for d in docs if d["kind"] == "Deployment"):
        pod = doc["spec"]["template"]["spec"]
        secrets = {v["name"] for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "matchmaker-ops-token"}
        container = pod["containers"][0]
        mounts = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in secrets}
        token_file = next(e["value"] for e in container["env"] if e["name"] == "MATCHMAKER_OPS_TOKEN_FILE")
        assert token_file.rsplit("/", 1)[0] in mounts, doc["metadata"]["name"]
    monitors = [d["spec"] for d in docs if d["kind"] in ("ServiceMonitor", "PodMonitor")]
    endpoints = [e for spec in monitors for e in spec.get("endpoints", []) + spec.get("podMetricsEndpoints", [])]
    assert endpoints and all(e["authorization"]["credentials"]["name"] == "matchmaker-ops-token" for e in endpoints)
    compose = yaml.safe_load((deploy / "compose" / "docker-compose.yml").read_text())
    monitor = compose["services"]["monitor"]
    assert monitor["environment"]["MATCHMAKER_OPS_TOKEN_FILE"] == "/run/secrets/ops-token"
    assert "ops-token" in monitor["secrets"] and set(compose["secrets"]["ops-token"]) == {"file"}
