"""`configure_logging`: in json mode a log collector can parse every line, whatever the message holds."""

from __future__ import annotations

import json
import logging
import sys
import threading
import warnings

import pytest

from services.logs import configure_logging


@pytest.fixture(autouse=True)
def restore_logging():
    """The root logger, warnings and excepthooks as they were before each test."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, sys.excepthook, threading.excepthook)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    sys.excepthook, threading.excepthook = saved[2], saved[3]
    logging.captureWarnings(False)


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the process wrote to stderr (where the handler writes), non-empty lines."""
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_json_mode_writes_one_parseable_object_per_record(capsys):
    configure_logging("INFO", "json")
    log = logging.getLogger("matchmaker.test")
    log.warning('a "quoted" message\nwith a second line and a backslash \\')
    try:
        raise ValueError('broken "input"\non two lines')
    except ValueError:
        log.exception("dead letter %s", "t[0]@1")
    logging.getLogger("aiokafka.consumer").info("a library's record")
    log.debug("below the level: not written")

    records = [json.loads(line) for line in lines(capsys)]

    assert len(records) == 3
    assert records[0]["message"] == 'a "quoted" message\nwith a second line and a backslash \\'
    assert records[0]["level"] == "WARNING" and records[0]["logger"] == "matchmaker.test" and records[0]["time"]
    assert records[1]["message"] == "dead letter t[0]@1"
    assert records[1]["level"] == "ERROR"
    assert (
        "Traceback" in records[1]["exc_info"] and 'ValueError: broken "input"\non two lines' in records[1]["exc_info"]
    )
    assert records[2]["logger"] == "aiokafka.consumer"


def test_json_mode_turns_warnings_and_uncaught_exceptions_into_records(capsys):
    configure_logging("WARNING", "json")
    warnings.warn("an old API", DeprecationWarning, stacklevel=1)
    try:
        raise RuntimeError("crashed")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())

    records = [json.loads(line) for line in lines(capsys)]

    assert [r["logger"] for r in records] == ["py.warnings", "matchmaker"]
    assert "an old API" in records[0]["message"]
    assert records[1]["level"] == "CRITICAL" and "RuntimeError: crashed" in records[1]["exc_info"]


def test_text_mode_is_plain_and_configuring_twice_keeps_one_handler(capsys):
    configure_logging("WARNING", "json")
    configure_logging("WARNING", "text")
    logging.getLogger("matchmaker.test").warning("plain words")

    [line] = lines(capsys)

    assert line.endswith("WARNING matchmaker.test: plain words")
    assert sys.excepthook is sys.__excepthook__
