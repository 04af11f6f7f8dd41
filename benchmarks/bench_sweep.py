"""Time the vectorised threshold sweep against a per-pair brute-force loop.

Usage::

    python benchmarks/bench_sweep.py [--n 1000000] [--step 0.1] [--repeats 7]
                                     [--brute-pairs 200] [--full-brute-force]

Both methods run single-threaded on the same random scores. The sweep is timed
end to end (input checks, sorting, counting, every pair's rates) as the median
of ``--repeats`` runs, in wall-clock time; CPU time is reported too, since a
shared machine's load inflates wall time. The brute force computes each valid
pair's rates with numpy masks over all scores; by default only
``--brute-pairs`` random pairs are timed and the total is extrapolated to
every valid pair (the output says so), because the full loop takes minutes at
10**6 scores. The subset's rates are checked against the sweep's. One JSON
line per run is appended to ``benchmarks/results/sweep.jsonl``.
"""

from __future__ import annotations

import os

# Single thread, set before numpy loads its BLAS/OpenMP runtimes.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402  (numpy must see the thread variables first)
import datetime  # noqa: E402  (same reason)
import json  # noqa: E402  (same reason)
import platform  # noqa: E402  (same reason)
import statistics  # noqa: E402  (same reason)
import sys  # noqa: E402  (same reason)
import time  # noqa: E402  (same reason)
from pathlib import Path  # noqa: E402  (same reason)

import numpy as np  # noqa: E402  (same reason)
from _machine import cpu_model  # noqa: E402  (same reason)

from heysh.evaluation.sweep import (  # noqa: E402  (imports numpy)
    SweepResult,
    sweep_threshold_pairs,
    threshold_grid,
)

GOAL_S = 0.5
RESULTS = Path(__file__).resolve().parent / "results" / "sweep.jsonl"


def _machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def _time_sweep(
    scores: np.ndarray, labels: np.ndarray, grid: np.ndarray, repeats: int
) -> tuple[list[float], list[float], SweepResult]:
    """Return wall-clock and CPU seconds per run, and the last sweep."""
    sweep = sweep_threshold_pairs(scores, labels, grid)  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        sweep = sweep_threshold_pairs(scores, labels, grid)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, sweep


def _brute_force_pair(
    scores: np.ndarray,
    relevant: np.ndarray,
    n_relevant: int,
    reject: float,
    approve: float,
) -> tuple[float, float, float]:
    """Automation, FAR and FRR of one pair with boolean masks."""
    approved = scores >= approve
    rejected = scores <= reject
    n_approved = int(approved.sum())
    n_rejected = int(rejected.sum())
    false_approved = int((approved & ~relevant).sum())
    false_rejected = int((rejected & relevant).sum())
    automation = (n_approved + n_rejected) / scores.size
    far = false_approved / n_approved if n_approved else 0.0
    frr = false_rejected / n_relevant if n_relevant else 0.0
    return automation, far, frr


def _time_brute_force(
    scores: np.ndarray,
    labels: np.ndarray,
    grid: np.ndarray,
    pairs: list[tuple[int, int]],
    sweep: SweepResult,
    repeats: int,
) -> list[float]:
    """Return per-pair seconds (median over pairs per repeat), checking rates."""
    relevant = labels == 1
    n_relevant = int(relevant.sum())
    per_pair_runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        results = [
            _brute_force_pair(scores, relevant, n_relevant, grid[r], grid[a])
            for r, a in pairs
        ]
        per_pair_runs.append((time.perf_counter() - start) / len(pairs))
    for (r, a), (automation, far, frr) in zip(pairs, results, strict=True):
        expected = (sweep.automation[r, a], sweep.far[r, a], sweep.frr[r, a])
        if not np.allclose((automation, far, frr), expected, rtol=0, atol=1e-12):
            sys.exit(f"brute force and sweep disagree at pair {(r, a)}")
    return per_pair_runs


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the figures and append them to the results file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="scores")
    parser.add_argument("--step", type=float, default=0.1, help="grid step")
    parser.add_argument("--repeats", type=int, default=7, help="sweep repeats")
    parser.add_argument(
        "--brute-pairs",
        type=int,
        default=200,
        help="random valid pairs timed by brute force",
    )
    parser.add_argument(
        "--brute-repeats", type=int, default=3, help="repeats of the brute-force subset"
    )
    parser.add_argument(
        "--full-brute-force",
        action="store_true",
        help="time every valid pair instead of extrapolating",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    scores = rng.uniform(0.0, 10.0, args.n)
    labels = (rng.uniform(size=args.n) < scores / 10.0).astype(np.int64)
    grid = threshold_grid(args.step)
    valid = [(r, a) for r in range(grid.size) for a in range(grid.size) if r < a]

    sweep_runs, sweep_cpu, sweep = _time_sweep(scores, labels, grid, args.repeats)
    sweep_median = statistics.median(sweep_runs)

    if args.full_brute_force:
        pairs = valid
    else:
        chosen = rng.choice(
            len(valid), size=min(args.brute_pairs, len(valid)), replace=False
        )
        pairs = [valid[i] for i in sorted(chosen)]
    per_pair = _time_brute_force(scores, labels, grid, pairs, sweep, args.brute_repeats)
    brute_total = statistics.median(per_pair) * len(valid)
    extrapolated = len(pairs) < len(valid)

    machine = _machine()
    record = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "threads": 1,
        "n_scores": args.n,
        "grid_points": int(grid.size),
        "valid_pairs": len(valid),
        "sweep_median_s": round(sweep_median, 4),
        "sweep_runs_s": [round(t, 4) for t in sweep_runs],
        "sweep_cpu_median_s": round(statistics.median(sweep_cpu), 4),
        "brute_force_pairs_timed": len(pairs),
        "brute_force_per_pair_median_s": round(statistics.median(per_pair), 6),
        "brute_force_all_pairs_s": round(brute_total, 2),
        "brute_force_extrapolated": extrapolated,
        "speedup": round(brute_total / sweep_median, 1),
        "goal_s": GOAL_S,
        "meets_goal": sweep_median < GOAL_S,
    }
    how = (
        f"extrapolated from {len(pairs)} timed pairs"
        if extrapolated
        else "every pair timed"
    )
    lines = [
        f"date      {record['date']}",
        f"machine   {machine['platform']}; {machine['cpu']}; "
        f"{machine['cores']} cores; load {machine['load_average_1m']}",
        f"data      {args.n:,} scores, {grid.size}x{grid.size} grid, "
        f"{len(valid):,} valid pairs, 1 thread",
        f"sweep     median {sweep_median:.3f} s of {args.repeats} runs "
        f"(min {min(sweep_runs):.3f}, max {max(sweep_runs):.3f}; CPU time "
        f"{statistics.median(sweep_cpu):.3f} s); goal < {GOAL_S} s wall: "
        f"{'met' if record['meets_goal'] else 'NOT met'}",
        f"brute     {statistics.median(per_pair) * 1e3:.2f} ms per pair, "
        f"{brute_total:.1f} s for all pairs ({how})",
        f"ratio     brute force / sweep = {record['speedup']:,}x",
    ]
    print("\n".join(lines))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
