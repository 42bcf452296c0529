"""The documentation stays true: every test the security threat table names exists, README commands work."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def test_every_threat_row_names_existing_tests() -> None:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith("| threat") and not set(line) <= set("|- ")
    ]
    assert len(rows) >= 12
    current = None
    for row in rows:
        refs = re.findall(r"`((?:tests/)?test_\w+\.py)?(::\w+)?`", row.split("|")[-2])
        named = [(f, t) for f, t in refs if f or t]
        assert named, f"threat row names no test: {row[:80]}"
        for file, test in named:
            if file:
                current = ROOT / (file if file.startswith("tests/") else f"tests/{file}")
                assert current.is_file(), file
            if test:
                assert current is not None
                assert test[2:] in _test_names(current), f"{current.name} has no {test[2:]}"


def test_readme_quick_start_has_both_commands_alone_on_a_line() -> None:
    lines = [line.strip() for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()]
    assert "make run" in lines and "make test" in lines
