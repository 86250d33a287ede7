"""`matchmaker subscribe` takes the webhook secret from anywhere but argv, and publishes it sealed.

The broker is replaced by a list of published records; the real command on the real broker, with its
argv read from /proc, is in tests/integration/services/delivery/test_notifier.py.
"""

from __future__ import annotations

import io
import re
import stat

import pytest

import services.delivery.subscriptions as subscriptions
from schemas import Subscription
from services.cli.main import main
from services.delivery.keyfile import load_sealer, read_keys
from tests.support import PROJECT_ROOT

SECRET = "whsec-from-a-file-0123456789"
PUBLIC = "93.184.215.14"
COMMAND = ["subscribe", "--company", "co-1", "--url", "https://example.fi/hook"]


@pytest.fixture
def published(monkeypatch, tmp_path) -> list[Subscription]:
    """What the command publishes; MATCHMAKER_HOME in tmp_path (the key file is created there)."""
    records: list[Subscription] = []
    monkeypatch.setenv("MATCHMAKER_HOME", str(tmp_path))
    monkeypatch.delenv("MATCHMAKER_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("MATCHMAKER_SUBSCRIPTION_KEY_FILE", raising=False)
    monkeypatch.setattr(subscriptions, "ensure_notifier_topics", lambda settings: None)
    check = subscriptions.check_webhook_url  # example.fi resolves to a public address here, without DNS
    monkeypatch.setattr(
        subscriptions, "check_webhook_url", lambda settings, url: check(settings, url, lambda host, port: [PUBLIC])
    )
    monkeypatch.setattr(subscriptions, "publish_subscription", lambda settings, record: records.append(record))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return records


def unsealed(tmp_path, record: Subscription) -> str:
    assert record.url is not None and record.sealed_secret is not None
    key = tmp_path / "security" / "subscriptions.key"
    return load_sealer(key).unseal(record.company_id, record.url, record.sealed_secret)


@pytest.mark.parametrize("flag", [["--secret", SECRET], [f"--secret={SECRET}"], ["--secret"]])
def test_a_secret_on_the_command_line_is_refused_and_says_what_to_use(published, capsys, flag):
    assert main([*COMMAND, *flag]) == 1
    err = capsys.readouterr().err
    assert err.startswith("matchmaker: --secret is refused") and "ps" in err and "shell history" in err
    assert "--secret-file" in err and "--secret-stdin" in err and "MATCHMAKER_WEBHOOK_SECRET" in err
    assert SECRET not in err and published == []


def test_secret_file(published, capsys, tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET + "\n")  # as `echo` writes it: the newline is not part of the secret
    assert main([*COMMAND, "--secret-file", str(path), "--min-score", "0.5"]) == 0
    (record,) = published
    assert unsealed(tmp_path, record) == SECRET and record.min_score == 0.5
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err and f"secret from {path}" in err
    assert SECRET not in record.model_dump_json()


def test_secret_stdin(published, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert main([*COMMAND, "--secret-stdin"]) == 0
    assert unsealed(tmp_path, published[0]) == SECRET
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err


def test_secret_from_the_environment(published, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHMAKER_WEBHOOK_SECRET", SECRET)
    assert main(COMMAND) == 0
    assert unsealed(tmp_path, published[0]) == SECRET
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err and "secret from MATCHMAKER_WEBHOOK_SECRET" in err


def test_without_a_secret_one_is_generated_and_printed_once_alone_on_stdout(published, capsys, tmp_path):
    assert main(COMMAND) == 0
    out, err = capsys.readouterr()
    generated = out.strip()
    assert out == generated + "\n" and re.fullmatch(r"[A-Za-z0-9_-]{43}", generated)  # token_urlsafe(32)
    assert unsealed(tmp_path, published[0]) == generated
    assert "shown once" in err and generated not in err
    key = tmp_path / "security" / "subscriptions.key"
    assert f"created the subscriptions key {key}" in err and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert main(COMMAND) == 0
    assert capsys.readouterr().out.strip() != generated  # every subscribe without a secret gets a new one
    assert "created" not in capsys.readouterr().err  # the key file is made once


def test_the_key_file_setting_is_used(published, tmp_path, monkeypatch):
    key = tmp_path / "elsewhere" / "subs.key"
    monkeypatch.setenv("MATCHMAKER_SUBSCRIPTION_KEY_FILE", str(key))
    monkeypatch.setenv("MATCHMAKER_WEBHOOK_SECRET", SECRET)
    assert main(COMMAND) == 0
    record = published[0]
    assert record.url is not None and record.sealed_secret is not None
    assert load_sealer(key).unseal("co-1", record.url, record.sealed_secret) == SECRET
    assert not (tmp_path / "security").exists()


def test_rotate_puts_a_new_key_in_front_of_the_old_one(published, capsys, tmp_path, monkeypatch):
    assert main(["subscription-key", "rotate"]) == 1
    assert capsys.readouterr().err.startswith("matchmaker: no subscriptions key at")
    monkeypatch.setenv("MATCHMAKER_WEBHOOK_SECRET", SECRET)
    assert main(COMMAND) == 0  # creates the key file
    key = tmp_path / "security" / "subscriptions.key"
    (first,) = read_keys(key)
    assert main(["subscription-key", "rotate"]) == 0
    assert "subscription-key reseal" in capsys.readouterr().out
    keys = read_keys(key)
    assert len(keys) == 2 and keys[1] == first
    assert unsealed(tmp_path, published[0]) == SECRET  # sealed before the rotation, still opens


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--secret-stdin"], {"MATCHMAKER_WEBHOOK_SECRET": SECRET}, "not with --secret-stdin and MATCHMAKER_"),
        ([], {"MATCHMAKER_WEBHOOK_SECRET": "  "}, "set but empty"),
        ([], {"MATCHMAKER_WEBHOOK_SECRET": "too-short"}, "16 to 256 characters (it has 9)"),
        (["--secret-file", "/nonexistent/secret"], {}, "no secret file /nonexistent/secret"),
    ],
)
def test_bad_secret_input_is_one_line_that_never_repeats_the_secret(published, capsys, monkeypatch, args, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([*COMMAND, *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("matchmaker: ") and message in err and err.count("\n") == 1
    assert "too-short" not in err and SECRET not in err and published == []


def test_secret_file_and_stdin_are_exclusive(published, capsys, tmp_path):
    with pytest.raises(SystemExit):
        main([*COMMAND, "--secret-stdin", "--secret-file", str(tmp_path / "s")])
    assert "not allowed with" in capsys.readouterr().err


def test_the_guides_never_put_a_secret_on_the_command_line():
    for guide in ("README.md", "docs/companies.md", "docs/operators.md"):
        text = (PROJECT_ROOT / guide).read_text(encoding="utf-8")
        assert not re.search(r"--secret[ =]", text), guide


def test_without_url_the_company_subscribes_its_inbox_only(published, capsys, tmp_path):
    assert main(["subscribe", "--company", "co-1", "--min-score", "0.4"]) == 0
    (record,) = published
    assert (record.url, record.sealed_secret, record.min_score, record.webhook) == (None, None, 0.4, False)
    out, err = capsys.readouterr()
    assert out == "" and "inbox only" in err
    assert not (tmp_path / "security" / "subscriptions.key").exists()  # no secret, no key needed


def test_a_secret_without_url_is_refused(published, capsys, tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    assert main(["subscribe", "--company", "co-1", "--secret-file", str(path)]) != 0
    assert published == [] and "needs --url" in capsys.readouterr().err
