"""Thin tools: benchmarks (bench/), CI helpers and demo setups."""
