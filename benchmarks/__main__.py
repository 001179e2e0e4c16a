"""``python -m benchmarks [--quick]``: run the suite, print markdown tables, and (full run
only) write benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import report, scale, suite

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

FULL = dict(
    rounds=20,
    block=0.25,
    sizes=(1_000, 10_000, 100_000, 1_000_000),
    memory=100_000,
    collector_steps=5,
    most_repeats=30,
    scale_workloads=tuple(scale.WORKLOADS),
    scale_rounds=5,
)
QUICK = dict(
    rounds=2,
    block=0,
    sizes=(1_000, 10_000),
    memory=10_000,
    collector_steps=1,
    most_repeats=5,
    scale_workloads=("moons",),
    scale_rounds=1,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute")
    parser.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    parser.add_argument(
        "--profile", action="store_true", help="only cProfile this engine's eager demo step"
    )
    args = parser.parse_args(argv)
    if args.profile:
        print(suite.profile_demo(steps=3, top=25))
        return 0
    settings = QUICK if args.quick else FULL
    started = time.perf_counter()

    def progress(what: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f} s] {what}", file=sys.stderr, flush=True)

    # first, while this process's heap is small: the suite's million-node graphs come later
    training = scale.run(settings["scale_workloads"], rounds=settings["scale_rounds"])
    progress("training at scale timed")
    demo = suite.start_demo()
    try:
        progress("workers started")
        suite.check_demo(demo)
        progress(f"checked: every variant within {suite.TOLERANCE:g} of {suite.REFERENCE}")
        suite.time_demo(demo, settings["rounds"], settings["block"])
        suite.measure_collector(demo, steps=settings["collector_steps"])
        suite.time_training(demo)
        progress("demo step timed")
        micro = suite.run_micro(
            demo.workers,
            settings["sizes"],
            settings["memory"],
            depth=1_000_000,
            most_repeats=settings["most_repeats"],
        )
        progress("micro benchmarks done")
        profile = demo.workers["ours"].call("profile", steps=3, top=15)["text"]
    finally:
        suite.close_demo(demo)

    command = "python -m benchmarks" + (" --quick" if args.quick else "")
    sections = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` in {time.perf_counter() - started:.0f} s on:",
        "",
        *report.machine(),
        "",
        *report.method(settings["block"]),
        "",
        "## Targets",
        "",
        *report.targets_table(demo, micro),
        "",
        "## The demo training step",
        "",
        *report.demo_table(demo),
        "",
        *report.collector_table(demo),
        "",
        "## micrograd.compile",
        "",
        *report.compile_targets(demo),
        "",
        "## Training at the size of real networks",
        "",
        *scale.method(training),
        "",
        *scale.report(training),
        "",
        "## Time per node",
        "",
        *report.micro_table(micro),
        "",
        *report.micro_collector_table(micro),
        "",
        "## Memory and depth",
        "",
        *report.memory_table(micro),
        "",
        "## Where the eager step's time goes",
        "",
        "cProfile of three eager demo steps, GC on, top entries by own time (cProfile's "
        "overhead inflates the many small calls):",
        "",
        "```",
        *report.trim_profile(profile),
        "```",
        "",
    ]
    text = "\n".join(sections)
    print(text)
    if not args.quick and not args.no_write:
        RESULTS.write_text(text)
        print(f"wrote {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
