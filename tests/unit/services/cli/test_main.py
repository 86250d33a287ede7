"""The `matchmaker` command's error behaviour: an expected failure is one line and exit code 1; a bug keeps
its traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

import services.cli.ops
from services.cli.main import build_parser, main
from services.errors import BrokerError
from tests.support import PROJECT_ROOT

COMMANDS = [
    "kafka",
    "access",
    "worker",
    "publish",
    "matches",
    "rank",
    "eval",
    "demo",
    "api",
    "api-token",
    "subscribe",
    "unsubscribe",
    "subscription-key",
    "notifier",
    "inbox",
    "inbox-token",
    "lag",
    "monitor",
    "ops-token",
]


def test_every_command_group_is_on_the_parser_in_order():
    help_text = build_parser().format_help()
    listed = help_text.split("{", 1)[1].split("}", 1)[0].split(",")
    assert listed == COMMANDS


def test_a_bad_flag_value_is_one_line_and_exit_code_1(capsys):
    assert main(["lag", "--samples", "1"]) == 1
    assert capsys.readouterr().err == "matchmaker: --samples must be at least 2 (a status needs a window)\n"


def test_a_domain_error_from_a_command_is_one_line(monkeypatch, capsys):
    def fail(settings, args):
        raise BrokerError("the broker did not answer within 60s; see x/server.log")

    monkeypatch.setattr(services.cli.ops, "_lag", fail)
    assert main(["lag"]) == 1
    assert capsys.readouterr().err == "matchmaker: the broker did not answer within 60s; see x/server.log\n"


def test_a_missing_input_file_is_one_line(capsys, tmp_path):
    assert (
        main(["rank", "--challenges", str(tmp_path / "nope.jsonl"), "--companies", str(tmp_path / "nope.jsonl")]) == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("matchmaker: ") and "nope.jsonl" in err and "Traceback" not in err


def test_a_bad_line_in_an_input_file_names_file_and_line(capsys, tmp_path):
    bad = tmp_path / "challenges.jsonl"
    bad.write_text('\n{"challenge_id": "c1"\n', encoding="utf-8")
    assert main(["rank", "--challenges", str(bad), "--companies", str(bad)]) == 1
    assert capsys.readouterr().err.startswith(f"matchmaker: {bad}:2: ")


def test_an_unknown_api_token_is_not_found(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MATCHMAKER_API_TOKENS_FILE", str(tmp_path / "tokens.json"))
    assert main(["api-token", "revoke", "mmt_00000000"]) == 1
    assert capsys.readouterr().err == "matchmaker: no token mmt_00000000\n"


def test_an_invalid_city_for_a_token_is_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MATCHMAKER_API_TOKENS_FILE", str(tmp_path / "tokens.json"))
    assert main(["api-token", "issue", "--city", "Gotham"]) == 1
    assert capsys.readouterr().err.startswith("matchmaker: unknown city 'Gotham'")


@pytest.mark.parametrize("bug", [ValueError("bad"), RuntimeError("oops"), TimeoutError("slow"), KeyError("k")])
def test_a_bug_is_not_swallowed(monkeypatch, bug):
    def fail(settings, args):
        raise bug

    monkeypatch.setattr(services.cli.ops, "_lag", fail)
    with pytest.raises(type(bug)):
        main(["lag"])


def test_the_real_command_prints_one_line_without_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "lag", "--interval", "0"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (1, "matchmaker: --interval must be positive\n")
