"""Benchmarks (never timed tests): data generator, enforcer comparison. See docs/PERFORMANCE.md."""
