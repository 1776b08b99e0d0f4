"""The pipeline benchmark's table: every step, the total, the load it ran under and the database sizes."""

from __future__ import annotations

from empathy import bench


def test_render_lists_every_step_the_total_and_the_load_it_ran_under(tmp_path):
    result = {
        "customers": 1000,
        "files": 12,
        "raw_rows": 3456,
        "interactions": 789,
        "steps": {step: (float(i + 1), 100.0 * (i + 1)) for i, step in enumerate(bench.STEPS)},
        "load": [0.5, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5],
        "db_mib": 10.0,
        "published_mib": 5.0,
    }
    text = bench.render([result], {"cpu": "test"})
    for step in bench.STEPS:
        assert f"| {step} |" in text
    assert "**10.0**" in text  # 1 + 2 + 3 + 4 seconds
    assert "1,000 customers: 0.5, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5" in text
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n<!-- other:start -->\nkept\n<!-- other:end -->\n")
    bench.write_section(results, "pipeline", text)
    bench.write_section(results, "pipeline", text)
    written = results.read_text()
    assert written.count("<!-- pipeline:start -->") == 1 and "kept" in written
