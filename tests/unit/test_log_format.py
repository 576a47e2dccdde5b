"""Log lines: JSON objects with the correlation ids, or text for a terminal (NFR-OBS-002)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from pantheon_adapters.observability.logs import (
    JsonFormatter,
    TextFormatter,
    configure_logging,
    install_correlated_records,
    remove_handler,
)
from pantheon_adapters.settings import Settings
from pantheon_core import correlation


@pytest.fixture
def json_lines(tmp_path: Path) -> Iterator[io.StringIO]:
    """Everything logged during the test, as the JSON format writes it."""
    out = io.StringIO()
    handler = configure_logging(Settings(data_dir=tmp_path, log_format="json"),
                                service="test", stream=out)
    assert handler is not None
    try:
        yield out
    finally:
        remove_handler(handler)


def _parsed(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize(("env", "configured", "expected"), [
    ("development", None, "text"),
    ("production", None, "json"),
    ("development", "json", "json"),
    ("production", "text", "text"),
], ids=["dev-default", "prod-default", "dev-json", "prod-text"])
def test_the_format_follows_the_environment_unless_set(env: str, configured: str | None,
                                                       expected: str) -> None:
    settings = Settings.model_construct(env=env, log_format=configured)
    assert settings.effective_log_format == expected


def test_a_json_line_has_the_fields_and_ids_of_its_work(json_lines: io.StringIO) -> None:
    log = logging.getLogger("pantheon.test.fields")
    with correlation.bound(request_id="req-1", user_id="user-1", turn_id="turn-1"):
        log.info("hello %s", "world", extra={"status": 201})
    log.warning("outside\nany work")
    inside, outside = _parsed(json_lines)
    assert set(inside) == {"time", "level", "logger", "message", "service", "request_id",
                           "user_id", "turn_id", "status"}
    assert inside["message"] == "hello world" and inside["level"] == "INFO"
    assert inside["logger"] == "pantheon.test.fields" and inside["service"] == "test"
    assert (inside["request_id"], inside["user_id"], inside["turn_id"]) == (
        "req-1", "user-1", "turn-1")
    assert inside["status"] == 201
    assert str(inside["time"]).endswith("Z") and "T" in str(inside["time"])
    assert outside["message"] == "outside\nany work" and "request_id" not in outside


def test_a_json_line_carries_the_traceback_on_one_line(json_lines: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("pantheon.test.errors").exception("it failed")
    [line] = json_lines.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "ERROR" and "ValueError: boom" in record["exception"]


def test_configuring_twice_keeps_one_handler(json_lines: io.StringIO, tmp_path: Path) -> None:
    again = configure_logging(Settings(data_dir=tmp_path, log_format="text"), service="test",
                              stream=json_lines)
    assert again is not None and isinstance(again.formatter, TextFormatter)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is json_lines]
    assert ours == [again]


def test_text_lines_show_the_request_id_and_the_other_ids() -> None:
    install_correlated_records()
    formatter = TextFormatter()
    with correlation.bound(request_id="req-7", turn_id="turn-7"):
        record = logging.getLogger("pantheon.test.text").makeRecord(
            "pantheon.test.text", logging.INFO, __file__, 1, "step done", (), None)
    line = formatter.format(record)
    assert line.endswith("INFO pantheon.test.text [req-7 turn=turn-7] step done")
    plain = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert "[-] m" in formatter.format(plain)


def test_json_formatter_reads_ids_stamped_when_the_record_was_made() -> None:
    """A record formatted later (another thread, a queue) keeps the ids of where it was made."""
    install_correlated_records()
    with correlation.bound(job="rollup_usage", message_id="msg-1"):
        record = logging.getLogger("pantheon.jobs").makeRecord(
            "pantheon.jobs", logging.INFO, __file__, 1, "rolled up", (), None)
    line = json.loads(JsonFormatter(service="worker").format(record))
    assert (line["job"], line["message_id"], line["service"]) == ("rollup_usage", "msg-1",
                                                                  "worker")
