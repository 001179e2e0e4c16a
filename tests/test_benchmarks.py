"""The benchmark suite's quick check: every demo-step variant computes the same loss and
gradients as PyTorch on the whole batch in float64, and the micro benchmarks build the
graphs they claim to. No time is asserted."""

import re

import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from benchmarks import karpathy_release, micro, scale, suite  # noqa: E402
from micrograd import Value  # noqa: E402


def test_every_demo_variant_gives_pytorchs_loss_and_gradients():
    demo = suite.start_demo()
    try:
        results = suite.check_demo(demo)  # raises AssertionError past 1e-9 itself
    finally:
        suite.close_demo(demo)
    reference = results[suite.REFERENCE]
    assert {suite.OURS_GC_ON, suite.KARPATHY_GC_ON, suite.KARPATHY_GC_OFF} <= set(results)
    assert len(reference["grads"]) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert sum(abs(g) > 1e-3 for g in reference["grads"]) > 100  # a real, non-trivial step
    for name, result in results.items():
        assert result["loss"] == pytest.approx(reference["loss"], rel=1e-9, abs=1e-9), name
        assert result["grads"] == pytest.approx(reference["grads"], rel=1e-9, abs=1e-9), name


@pytest.mark.parametrize("shape", micro.SHAPES)
@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_micro_graphs_have_n_op_nodes(shape, n):
    root = micro.build(shape, n, micro.leaves_for(Value, shape, n))
    assert micro.count_op_nodes(root) == n


def test_tree_is_balanced_and_sums_its_leaves():
    leaves = micro.leaves_for(Value, "tree", 1023)
    root = micro.build("tree", 1023, leaves)
    assert root.data == pytest.approx(sum(x.data for x in leaves), rel=1e-12)
    depth, node = 0, root
    while node._prev:
        node, depth = node._prev[0], depth + 1
    assert depth == 10


def test_karpathy_backward_fails_past_a_thousand_deep_and_ours_does_not():
    karpathy_value = karpathy_release.load().engine.Value
    assert micro.backward_survives(karpathy_value, 100)
    assert not micro.backward_survives(karpathy_value, 5_000)
    assert micro.backward_survives(Value, 5_000)


def test_full_and_quick_runs_set_the_same_things():
    from benchmarks.__main__ import FULL, QUICK

    assert FULL.keys() == QUICK.keys()
    assert QUICK["sizes"][0] == FULL["sizes"][0] == 1_000
    assert FULL["sizes"][-1] == 1_000_000


def test_collector_clock_counts_collections_and_their_time():
    import gc

    with micro.CollectorClock() as clock:
        gc.collect()
        gc.collect(0)
    assert clock.collections == [1, 0, 1] and clock.seconds > 0
    assert clock not in gc.callbacks


def test_time_per_node_reports_the_collector_only_when_it_is_on():
    off = micro.time_per_node(Value, "sum", 20_000, repeats=1, gc_on=False)
    assert off["forward_collector_ns"] == off["forward_full_collections"] == 0
    on = micro.time_per_node(Value, "sum", 20_000, repeats=1, gc_on=True)
    assert 0 < on["forward_collector_ns"] < on["forward_ns"]  # 20,000 nodes: many gen-0 runs


def test_the_quick_run_checks_every_variant_and_prints_every_table(capsys):
    """CI's smoke test of `python -m benchmarks --quick`: it must finish and report; the
    figures themselves are not asserted (they are times)."""
    from benchmarks.__main__ import main

    assert main(["--quick", "--no-write"]) == 0
    out = capsys.readouterr()
    assert "every variant within 1e-09 of PyTorch" in out.err
    for heading in ("## Targets", "## The demo training step", "## Time per node", "## Memory"):
        assert heading in out.out
    assert "| micrograd | tree | 10,000 |" in out.out
    assert "- Matrix products: numpy's through " in out.out  # the machine's BLAS libraries
    assert "## Training at the size of real networks" in out.out
    assert f"| {scale.WORKLOADS['moons'].name} |" in out.out


def _cells(markdown: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell starts with first_cell."""
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0].startswith(first_cell):
            return cells
    raise AssertionError(f"no row {first_cell!r}")


def test_the_readme_quotes_the_recorded_results():
    from pathlib import Path

    root = Path(__file__).parent.parent
    results = (root / "benchmarks" / "RESULTS.md").read_text()
    readme = " ".join((root / "README.md").read_text().split())
    gc_on = _cells(results, "demo step, GC on")[1]
    gc_off = _cells(results, "demo step, GC off for both")[1]
    compiled = _cells(results, "micrograd.compile")
    assert f"**{gc_on}x faster** with Python's garbage collector on" in readme
    assert f"({gc_off}x with the collector off for both" in readme
    assert f"**{compiled[3]}x faster** ({compiled[4]}x karpathy/micrograd" in readme
    speed = readme[readme.index("Training at the size of real networks") :]
    at = 0  # the README names the workloads' compiled / PyTorch ratios in the table's order
    for workload in scale.WORKLOADS.values():
        ratio = _cells(results, workload.name)[5][:-1]  # "1.24x" -> "1.24"
        found = re.search(rf"\b{re.escape(ratio)} (times|and)\b", speed[at:])
        assert found, f"README's speed section lacks {workload.name}'s {ratio}"
        at += found.end()


@pytest.mark.parametrize("name", list(scale.WORKLOADS))
def test_every_training_variant_follows_pytorchs_loss_history(name):
    """The compiled fit and the numpy written by hand train as the PyTorch loop does: the
    same loss, epoch by epoch, so the scale table times the same computation three ways."""
    workload = scale.WORKLOADS[name]
    _, reference = scale.time_torch(workload, 4)
    _, compiled = scale.time_compiled(workload, 4)
    _, numpy = scale.time_by_hand(workload, 4)
    assert len(reference) == 4 and reference[-1] < reference[0]  # it trains
    assert compiled == pytest.approx(reference, rel=1e-10)
    assert numpy == pytest.approx(reference, rel=1e-10)


def test_the_scale_report_has_a_row_per_workload_run():
    result = scale.Scale(rounds=1)
    for name in ("moons", "digits-cnn"):
        result.epoch_seconds.update({(name, "compiled"): [2.0], (name, "torch"): [1.0],
                                     (name, "numpy"): [4.0]})  # fmt: skip
        result.tracing[name] = (0.5, 0.1, 1_000)
        result.agreement[name] = {"compiled": 1e-16, "numpy": 3e-15}
        result.rows[name] = 100
    lines = scale.report(result)
    assert len(lines) == 2 + 2
    cells = _cells("\n".join(lines), scale.WORKLOADS["digits-cnn"].name)
    # compiled 2 s against torch's 1 s; numpy 4 s; eager 100 rows x 0.1 s; tracing 5 samples
    assert cells[5:12] == ["2.00x", "4.00x", "500 ms", "5.0x", "1,000", "500.0 µs", "3e-15"]
    assert cells[4] == "10.0 s"
