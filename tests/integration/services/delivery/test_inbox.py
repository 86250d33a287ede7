"""The inbox API on the real broker: each company sees only its own matches, newest first, paged."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from services.cli.processes import settings_env, start_command, stop_process
from services.delivery.inbox import InboxView, create_app
from services.delivery.subscriptions import issue_token, revoke_token
from tests.support import ARTIFACTS
from tests.support.broker import free_port
from tests.support.notifier import Events
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(settings):
    events = Events(settings)
    own = []
    for i in range(5):
        own.append(events.match("co-x", f"ch-{i}", 0.5 + i / 20))
        time.sleep(0.01)  # distinct produced_at: the newest is the last one
    events.send_match(own[0])  # a duplicate (same match_id) is shown once
    other = events.match("co-y", "ch-0", 0.6)
    events.close()
    tokens = {"co-x": issue_token(settings, "co-x"), "co-y": issue_token(settings, "co-y")}
    return {"own": own, "other": other, "tokens": tokens}


@pytest.fixture(scope="module")
def inbox(settings, data):
    """The FastAPI app served by uvicorn on a loopback port, its view reading the topics."""
    view = InboxView(settings).start()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, view), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    assert wait_until(lambda: _ready(client), 60, interval=0.3)
    yield client
    client.close()
    server.should_exit = True
    thread.join(10)
    view.stop()


def _ready(client: httpx.Client) -> bool:
    try:
        return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_own_token_lists_own_matches_newest_first_in_pages(inbox, data):
    token = data["tokens"]["co-x"]
    expected = [m.match_id for m in reversed(data["own"])]
    first = inbox.get("/companies/co-x/matches", params={"limit": 2}, headers=bearer(token))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["company_id"] == "co-x" and [m["match_id"] for m in body["matches"]] == expected[:2]
    seen = [m["match_id"] for m in body["matches"]]
    cursor = body["next_cursor"]
    while cursor:
        page = inbox.get("/companies/co-x/matches", params={"limit": 2, "cursor": cursor}, headers=bearer(token)).json()
        seen += [m["match_id"] for m in page["matches"]]
        cursor = page["next_cursor"]
    assert seen == expected  # every match once, the duplicate too, nothing of another company
    assert data["other"].match_id not in seen


def test_another_companys_token_is_forbidden_and_no_token_is_unauthorised(inbox, data):
    assert inbox.get("/companies/co-x/matches", headers=bearer(data["tokens"]["co-y"])).status_code == 403
    missing = inbox.get("/companies/co-x/matches")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    assert inbox.get("/companies/co-x/matches", headers=bearer("mmi_not-a-token")).status_code == 401
    assert inbox.get("/companies/co-x/matches", headers={"Authorization": "Basic abc"}).status_code == 401
    own = inbox.get("/companies/co-y/matches", headers=bearer(data["tokens"]["co-y"]))
    assert own.status_code == 200 and [m["match_id"] for m in own.json()["matches"]] == [data["other"].match_id]


def test_closed_challenge_and_withdrawn_company_leave_the_inbox(settings, inbox, data):
    token = data["tokens"]["co-x"]
    events = Events(settings)
    events.challenge("ch-4", version=1, status="closed")

    def ids(company: str, tok: str) -> list[str]:
        return [
            m["match_id"] for m in inbox.get(f"/companies/{company}/matches", headers=bearer(tok)).json()["matches"]
        ]

    closed = data["own"][4].match_id
    assert wait_until(lambda: closed not in ids("co-x", token), 20)
    assert len(ids("co-x", token)) == 4
    events.company_status("co-y", version=1, status="withdrawn")
    events.close()
    assert wait_until(lambda: ids("co-y", data["tokens"]["co-y"]) == [], 20)
    assert len(ids("co-x", token)) == 4


def test_rotated_or_revoked_token_stops_working(settings, inbox, data):
    old = data["tokens"]["co-x"]
    new = issue_token(settings, "co-x")
    assert wait_until(lambda: inbox.get("/companies/co-x/matches", headers=bearer(old)).status_code == 401, 20)
    assert inbox.get("/companies/co-x/matches", headers=bearer(new)).status_code == 200
    revoke_token(settings, "co-x")
    assert wait_until(lambda: inbox.get("/companies/co-x/matches", headers=bearer(new)).status_code == 401, 20)


def test_matchmaker_inbox_command_serves_a_second_replica(settings, data):
    """Another process, `matchmaker inbox`, builds the same view from Kafka and answers for any company."""
    port = free_port()
    log = ARTIFACTS / "logs" / f"{settings.app_id}-inbox.log"
    process = start_command(["inbox", "--port", str(port)], log, settings_env(settings))
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
        assert wait_until(lambda: _ready(client), 60, interval=0.3)
        token = issue_token(settings, "co-y")
        assert wait_until(lambda: client.get("/companies/co-y/matches", headers=bearer(token)).status_code == 200, 20)
        assert client.get("/companies/co-x/matches", headers=bearer(token)).status_code == 403
        client.close()
    finally:
        stop_process(process)
