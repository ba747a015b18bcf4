"""Prints the NIST conformance tables (one per database kind) at the end of the session."""
from __future__ import annotations

#: (title, text) blocks the NIST run adds; shown in the terminal summary.
SUMMARIES: list[tuple[str, str]] = []


def pytest_terminal_summary(terminalreporter):
    for title, text in SUMMARIES:
        terminalreporter.write_sep("-", title)
        terminalreporter.write_line(text)
