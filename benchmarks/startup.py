"""Benchmark: how fast `cnnlab` answers when it has nothing to grade.

    .venv/bin/python benchmarks/startup.py [--repeat 5]

Times `cnnlab --help`, each `cnnlab COMMAND --help` and a few argument
errors, and prints each one's median wall time and its ratio to
`python -c pass` run in the same loop (the floor: starting Python itself).
The goal (issue 21) is every line under 0.5 s on the 2-core machine.
It also prints what `import nbformat` costs, the import that dominated
start-up before jsonschema was pinned (pyproject.toml).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlab.cli import cli  # noqa: E402  (the click group: every command it has is timed)

BIN = Path(sys.executable).parent
COMMANDS = sorted(cli.commands)
ERRORS = [["grade"], ["autograde"], ["export", "--lms", "nosuchlms", "01_why_cnns"], ["nosuchcommand"]]


def median_seconds(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cnnlab = str(BIN / "cnnlab")
    floor = median_seconds([sys.executable, "-c", "pass"], args.repeat)
    rows = [("python -c pass", floor),
            ("python -c 'import nbformat'", median_seconds([sys.executable, "-c", "import nbformat"], args.repeat)),
            ("cnnlab --help", median_seconds([cnnlab, "--help"], args.repeat))]
    rows += [(f"cnnlab {c} --help", median_seconds([cnnlab, c, "--help"], args.repeat)) for c in COMMANDS]
    rows += [(f"cnnlab {' '.join(e)}  (an argument error)", median_seconds([cnnlab, *e], args.repeat))
             for e in ERRORS]
    width = max(len(r[0]) for r in rows)
    print(f"{'command':<{width}}  median s  × python -c pass")
    for name, seconds in rows:
        flag = "" if seconds < 0.5 or name.startswith("python") else "   over 0.5 s"
        print(f"{name:<{width}}  {seconds:8.3f}  {seconds / floor:6.1f}×{flag}")


if __name__ == "__main__":
    main()
