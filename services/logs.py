"""Logging of every process: one root handler on stderr, plain text or one JSON object per line.

Each process entry point calls `configure_logging` once, before anything logs. Faust (told not to set up
logging: `override_logging=False`), aiokafka, kafka-python and uvicorn (`log_config=None`) then all log
through the root logger, so in `json` mode a log collector can parse every line a process writes.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Fields every JSON line carries, with `time` (ISO 8601, UTC); `exc_info` (the formatted traceback) and
# any `extra=` fields are added by the formatter when a record has them.
JSON_FIELDS = ("levelname", "name", "message")

# uvicorn adds `color_message` (the message with terminal colour codes) to its records: not for a collector
SKIPPED_FIELDS = (*RESERVED_ATTRS, "color_message")


def configure_logging(level: str, fmt: Literal["text", "json"]) -> None:
    """Send all logging (ours, libraries', warnings, uncaught exceptions) to stderr in one format."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(
            JsonFormatter(
                list(JSON_FIELDS),
                rename_fields={"levelname": "level", "name": "logger"},
                reserved_attrs=list(SKIPPED_FIELDS),
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught if fmt == "json" else sys.__excepthook__
    threading.excepthook = _log_uncaught_in_thread if fmt == "json" else threading.__excepthook__


def _log_uncaught(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
    """An uncaught exception as one log record, its traceback inside it, instead of raw stderr text."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("matchmaker").critical("uncaught exception", exc_info=(kind, error, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or isinstance(args.exc_value, SystemExit):
        return
    name = args.thread.name if args.thread else "?"
    logging.getLogger("matchmaker").error("uncaught exception in thread %s", name, exc_info=args.exc_value)
