"""Start-up time of ``sigcli --version`` and ``sigcli --help``.

Each is compared with ``python -c "import click"``, the least any click
command line pays. The three commands run interleaved (so that a slow moment
of the machine hits all of them alike), many rounds; the medians and the
ratios are printed. Target: each ratio at most 1.5.

    python benchmarks/bench_startup.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5

COMMANDS = {
    "import click": [sys.executable, "-c", "import click"],
    "sigcli --version": [sys.executable, "-m", "sigcli", "--version"],
    "sigcli --help": [sys.executable, "-m", "sigcli", "--help"],
}


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(rounds: int = 40) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # An installed package has .pyc files; without them every run would
    # measure compiling sigcli's sources, which no user pays twice.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for command in COMMANDS.values():
        wall_time(command, env)  # warm the file system cache and .pyc files
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command, env))
    base = statistics.median(times["import click"])
    worst = 0.0
    print(f"{rounds} interleaved rounds, medians:")
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / base
        if name != "import click":
            worst = max(worst, ratio)
        print(f"  {name:<18} {median * 1000:7.1f} ms   {ratio:4.2f}x")
    verdict = "ok" if worst <= TARGET else "over"
    print(f"worst ratio {worst:.2f}x (target <= {TARGET}x): {verdict}")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 40))
