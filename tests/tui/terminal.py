"""The real app in a real pseudo-terminal: bytes in as a terminal sends them, bytes out as a
terminal receives them, and a terminal emulator (pyte) to read the screen.

Pilot posts key events one by one; a laggy SSH link or a paste delivers many keys in one read
of the terminal, and only the real driver shows what the app does with that. The raw output is
also what a hostile record would inject into the user's terminal, so tests read it whole.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parents[2]


class TerminalApp:
    """`crm --db PATH` running on a pty of `columns` x `lines`."""

    def __init__(
        self, db: Path, *args: str, columns: int = 80, lines: int = 24, user: str = "alice"
    ) -> None:
        self.columns, self.lines = columns, lines
        self.output = bytearray()
        self._screen = pyte.Screen(columns, lines)
        self._stream = pyte.ByteStream(self._screen)
        self._lock = threading.Lock()
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "CRM_USER": user,
            "TZ": "UTC",
            "COLUMNS": str(columns),
            "LINES": str(lines),
        }
        env.pop("TEXTUAL", None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from tui.cli import main; main()", "--db", str(db), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=ROOT,
            close_fds=True,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if not ready:
                    if self.process.poll() is not None:
                        return
                    continue
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self._lock:
                self.output.extend(chunk)
                self._stream.feed(chunk)

    def write(self, data: bytes) -> None:
        """One write: the app reads it as one burst, as from a paste or a laggy link."""
        os.write(self.master, data)

    def screen(self) -> str:
        with self._lock:
            return "\n".join(self._screen.display)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """Wait until `text` is on screen (and the app has drawn it); return the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not on screen after {timeout} s:\n{self.screen()}")

    def wait_until_gone(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text not in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{text!r} still on screen after {timeout} s:\n{self.screen()}")

    def quiet(self, seconds: float = 0.5, timeout: float = 15.0) -> None:
        """Wait until the app has written nothing for `seconds`: it has caught up."""
        deadline = time.monotonic() + timeout
        size, since = len(self.output), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if len(self.output) != size:
                size, since = len(self.output), time.monotonic()
            elif time.monotonic() - since >= seconds:
                return

    def close(self, timeout: float = 15.0) -> int:
        """Quit with ctrl+q (answering a question with y if one is asked), then wait."""
        if self.process.poll() is None:
            self.write(b"\x11")
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(2)
        os.close(self.master)
        return self.process.returncode

    def __enter__(self) -> TerminalApp:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        try:
            os.close(self.master)
        except OSError:
            pass
