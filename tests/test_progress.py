"""Long commands show progress on standard error when it is a terminal (and nothing there when it is a pipe or a
log), and end with one summary line with counts and time. The terminal is a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.live import kg_env, run_kg


def in_terminal(tmp: Path, *args: str) -> tuple[int, str, str]:
    """`python -m kg ARGS` with standard error on a pseudo-terminal (80 columns): (exit code, stdout, the terminal)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / "stdout.txt"
    with open(out, "wb") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg", *args],
            stdout=stdout,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            env=kg_env(tmp),
            cwd=ROOT,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=300)
    os.close(master)
    return code, out.read_text(), b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "gen.nt"
    proc = run_kg(path.parent, "generate", "-n", "20000", "--seed", "2", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    return path


def test_generate_shows_a_bar_on_a_terminal_and_nothing_in_a_pipe(tmp_path: Path) -> None:
    code, stdout, terminal = in_terminal(
        tmp_path, "generate", "-n", "200000", "--seed", "1", "-o", str(tmp_path / "a.nt")
    )
    assert code == 0
    assert "generating:" in terminal and "%|" in terminal and "triples" in terminal
    assert stdout.startswith("wrote 2000") and stdout.rstrip().endswith(" s")
    piped = run_kg(tmp_path, "generate", "-n", "200000", "--seed", "1", "-o", str(tmp_path / "b.nt"))
    assert piped.returncode == 0 and piped.stderr == ""


def test_build_export_and_validate_show_progress_and_a_summary(tmp_path: Path, generated: Path) -> None:
    code, stdout, terminal = in_terminal(tmp_path, "build", str(generated))
    assert code == 0, terminal
    assert "loading:" in terminal and "B/s" in terminal
    assert stdout.startswith("built ") and "(1 extra) in " in stdout
    code, stdout, terminal = in_terminal(tmp_path, "export", "--format", "nq", "-o", str(tmp_path / "all.nq"))
    assert code == 0, terminal
    assert "exporting nq:" in terminal
    assert "exported " in terminal and " quads as nq to " in terminal
    case = ROOT / "tests" / "cases" / "valid" / "full-case.ttl"
    code, stdout, terminal = in_terminal(tmp_path / "repository", "validate", str(case))  # without the extra file
    assert code == 0, terminal
    assert "validating 1 file(s):" in terminal
    assert "validated 1 file(s): 0 violation(s)" in terminal
    piped = run_kg(tmp_path, "export", "--format", "nt", "-o", str(tmp_path / "all.nt"))
    assert piped.returncode == 0
    assert piped.stderr.startswith("exported ") and "%|" not in piped.stderr and "\r" not in piped.stderr
