"""The audit log: append-only, tamper-evident, safe to open in a spreadsheet."""

from __future__ import annotations

import stat

import pytest

from app.auth import AuditChainError, AuditLog, Event


def test_audit_log_is_append_only_and_tamper_evident(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(3):
        log.record(Event.SIGN_IN, user=f"u{i}", ip="127.0.0.1")
    assert log.verify() == 3
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert [r["user"] for r in log.read()] == ["u2", "u1", "u0"]
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # someone deletes a line
    with pytest.raises(AuditChainError, match="line 2"):
        log.verify()


def test_audit_csv_export_neutralises_formulas(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.record(Event.SIGN_IN_FAILED, user='=HYPERLINK("http://evil")', ip="1.2.3.4")
    text = log.csv_bytes().decode()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
