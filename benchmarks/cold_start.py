"""A new user's first seconds: `chargen-tui generate` and the app's first ghost text, from a cold start.

    python benchmarks/cold_start.py generate [--runs 5]   # wall time and peak memory of generating
    python benchmarks/cold_start.py app [--runs 5]        # launch to first ghost text, tmux at 80x24

`generate` runs `chargen-tui generate --length 100` with the shipped model, as a new process each
time, and reports its wall time and peak resident memory (the child's own, from wait4). `app`
starts `chargen-tui write` on a new, empty document in a detached 80x24 tmux session and polls the
screen until the first line shows ghost text (drawn in italics): the time from launch to that
capture, and to the first paint (the status line). Both run the interpreter this script runs in,
with a fresh cache folder (also the working folder), so no crash copy or log is carried over. Targets: generate < 0.8 s and
< 150 MB; first ghost text < 1.2 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHARGEN = [sys.executable, "-m", "chargen_tui"]
ITALIC = "\x1b[3m"
POLL_SECONDS = 0.01  # between captures: polling flat out would take a core from the app it measures


def generate_once(cache: Path) -> tuple[float, float]:
    """Seconds of wall time and MB of peak resident memory of one `chargen-tui generate`."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    started = time.perf_counter()
    process = subprocess.Popen([*CHARGEN, "generate", "--length", "100", "--seed", "0"], env=env, cwd=cache,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"generate failed: {process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def app_once(folder: Path) -> tuple[float, float]:
    """Seconds from launching the writing screen to its first paint and to its first ghost text."""
    socket, document = folder / "tmux.sock", folder / "new.txt"
    tmux = ["tmux", "-S", str(socket)]
    command = f"XDG_CACHE_HOME={folder / 'cache'} {' '.join(CHARGEN)} write --file {document}"
    started = time.perf_counter()
    subprocess.run([*tmux, "new-session", "-d", "-s", "app", "-x", "80", "-y", "24", "-c", str(folder), command],
                   check=True)
    painted = None
    try:
        while time.perf_counter() - started < 30:
            lines = subprocess.run([*tmux, "capture-pane", "-p", "-e", "-t", "app"], capture_output=True,
                                   text=True).stdout.splitlines()
            now = time.perf_counter() - started
            if painted is None and any("temperature" in line for line in lines):
                painted = now
            if lines and ITALIC in lines[0]:
                return painted or now, now
            time.sleep(POLL_SECONDS)
        raise SystemExit("no ghost text within 30 s")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def summary(name: str, values: list[float], unit: str) -> str:
    return (f"{name}: median {statistics.median(values):.3f} {unit}, min {min(values):.3f}, "
            f"max {max(values):.3f} ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["generate", "app"])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.what == "app" and shutil.which("tmux") is None:
        raise SystemExit("needs tmux")
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            results.append(generate_once(Path(folder)) if args.what == "generate" else app_once(Path(folder)))
    first, second = zip(*results)
    if args.what == "generate":
        print(summary("chargen-tui generate --length 100, wall", list(first), "s"))
        print(summary("peak resident memory", list(second), "MB"))
    else:
        print(summary("launch to first paint", list(first), "s"))
        print(summary("launch to first ghost text", list(second), "s"))


if __name__ == "__main__":
    main()
