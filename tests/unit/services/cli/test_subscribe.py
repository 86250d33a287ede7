"""`matchmaker subscribe` takes the webhook secret from anywhere but argv.

The broker is replaced by a list of published records.
"""

from __future__ import annotations

import io
import re

import pytest

import services.delivery.subscriptions as subscriptions
from schemas import Subscription
from services.cli.main import main
from tests.support import PROJECT_ROOT

SECRET = "whsec-from-a-file-0123456789"
COMMAND = ["subscribe", "--company", "co-1", "--url", "https://example.fi/hook"]


@pytest.fixture
def published(monkeypatch, tmp_path) -> list[Subscription]:
    """What the command publishes."""
    records: list[Subscription] = []
    monkeypatch.setenv("MATCHMAKER_HOME", str(tmp_path))
    monkeypatch.delenv("MATCHMAKER_WEBHOOK_SECRET", raising=False)
    monkeypatch.setattr(subscriptions, "ensure_notifier_topics", lambda settings: None)
    monkeypatch.setattr(subscriptions, "publish_subscription", lambda settings, record: records.append(record))
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    return records


def secret_of(tmp_path, record: Subscription) -> str:
    return record.secret


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
    assert secret_of(tmp_path, record) == SECRET and record.min_score == 0.5
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err and f"secret from {path}" in err


def test_secret_stdin(published, capsys, tmp_path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    assert main([*COMMAND, "--secret-stdin"]) == 0
    assert secret_of(tmp_path, published[0]) == SECRET
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err


def test_secret_from_the_environment(published, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHMAKER_WEBHOOK_SECRET", SECRET)
    assert main(COMMAND) == 0
    assert secret_of(tmp_path, published[0]) == SECRET
    out, err = capsys.readouterr()
    assert out == "" and SECRET not in err and "secret from MATCHMAKER_WEBHOOK_SECRET" in err


def test_without_a_secret_one_is_generated_and_printed_once_alone_on_stdout(published, capsys, tmp_path):
    assert main(COMMAND) == 0
    out, err = capsys.readouterr()
    generated = out.strip()
    assert out == generated + "\n" and re.fullmatch(r"[A-Za-z0-9_-]{43}", generated)  # token_urlsafe(32)
    assert secret_of(tmp_path, published[0]) == generated
    assert "shown once" in err and generated not in err
    assert main(COMMAND) == 0
    assert capsys.readouterr().out.strip() != generated  # every subscribe without a secret gets a new one


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
