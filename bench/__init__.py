"""Benchmark: Lumi against a stock `rasa init` assistant (docs/performance.md)."""
