#!/usr/bin/env python3
"""The peer of `shouhou bench vrptw --peer pyvrp`: solves VRPLIB instances with PyVRP.

Reads each `<name>.vrp` of `--instances` (optionally those starting with `--only`), solves it with
PyVRP on one core for `--seconds` (DIMACS convention: distances truncated to one decimal, the
same as shouhou's checker), and writes its routes to `<out>/<name>.sol` in the VRPLIB solution
format (`Route #k: c1 c2 …`, customers numbered 1..n as in the instance's file, the depot
implied) with PyVRP's own cost; shouhou checks and costs every solution itself.

PyVRP comes from PyPI into a virtual environment of its own (`--venv`, created on first use);
it is never a dependency of shouhou. Run by shouhou; by hand:

    python3 bench/pyvrp_peer.py --instances ../shared/bench-data/vrptw/solomon --seconds 5 \
        --out /tmp/peer --only C1
"""

import argparse
import os
import subprocess
import sys
import time
import venv

PYVRP = "pyvrp==0.14.1"


def in_venv(path: str) -> None:
    """Re-runs this script with the Python of the virtual environment at `path`, with PyVRP."""
    python = os.path.join(path, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(path):
        return
    if not os.path.exists(python):
        print(f"pyvrp peer: creating {path} and installing {PYVRP} from PyPI", file=sys.stderr)
        venv.create(path, with_pip=True)
    probe = subprocess.run([python, "-c", "import pyvrp"], capture_output=True)
    if probe.returncode != 0:
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", PYVRP],
            check=True,
        )
    os.execv(python, [python, *sys.argv])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="")
    ap.add_argument("--venv", default=os.path.join(os.path.expanduser("~"), ".cache", "shouhou-pyvrp"))
    args = ap.parse_args()
    in_venv(args.venv)

    # One core, as shouhou's side: no thread pool in numpy's libraries either.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    from pyvrp import read, solve
    from pyvrp.stop import MaxRuntime

    names = sorted(
        f[: -len(".vrp")]
        for f in os.listdir(args.instances)
        if f.endswith(".vrp") and f.startswith(args.only)
    )
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        data = read(os.path.join(args.instances, name + ".vrp"), round_func="dimacs")
        started = time.monotonic()
        res = solve(data, stop=MaxRuntime(args.seconds), seed=args.seed, display=False)
        took = time.monotonic() - started
        sol = res.best
        # A route's activities: its depots and its clients, a client by its index among the
        # clients (from 0); a VRPLIB solution numbers the customers from 1.
        routes = [[a.idx + 1 for a in r if a.is_client()] for r in sol.routes()]
        lines = [
            f"Route #{k + 1}: " + " ".join(map(str, route))
            for k, route in enumerate(r for r in routes if r)
        ]
        lines.append(f"Cost {res.cost() / 10:.1f}")
        lines.append(f"Feasible {int(sol.is_feasible())}")
        lines.append(f"Seconds {took:.2f}")
        with open(os.path.join(args.out, name + ".sol"), "w") as f:
            f.write("\n".join(lines) + "\n")
        # One line per instance on stdout, so the caller can follow along.
        print(name, flush=True)


if __name__ == "__main__":
    main()
