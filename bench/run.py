#!/usr/bin/env python3
"""buzzline's benchmarks: each figure beside its anchor, measured in the same run, as a ratio.

    python bench/run.py            # every case
    python bench/run.py produce    # cases whose name starts with "produce"
    python bench/run.py --list

Anchors are other tools (grep, mawk, kcat) or a re-creation of the original project's loop,
run on the same machine in the same minute. The machine is shared and noisy: each figure is
the median of --runs runs (default 3). Goals are printed beside the figures; they are goals,
not assertions: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from lib import CASES, DATA  # noqa: E402

for module in sorted(HERE.glob("cases_*.py")):
    importlib.import_module(module.stem)


def _number(value: float) -> str:
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="run only cases starting with these names")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--list", action="store_true", help="list the cases")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    DATA.mkdir(parents=True, exist_ok=True)
    chosen = [n for n in CASES if not args.names or any(n.startswith(x) for x in args.names)]
    print(f"{'figure':44} {'value':>14}  {'anchor':34} {'anchor value':>14} {'ratio':>7}  goal")
    for name in chosen:
        for fig in CASES[name](args):
            anchor = "-" if fig.anchor_value is None else _number(fig.anchor_value)
            print(
                f"{fig.name:44} {_number(fig.value):>12} {fig.unit:<3} {fig.anchor:34} "
                f"{anchor:>14} {fig.ratio():>7}  {fig.goal}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
