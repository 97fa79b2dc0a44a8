"""Real servers for end-to-end tests, benchmarks and the demo: `tierstock serve` in a
subprocess (server.py) and loopback doubles of the platforms' open APIs (platforms/)."""

from tierstock.testing.server import TIERSTOCK, ServerFailedError, free_port, served

__all__ = ["TIERSTOCK", "ServerFailedError", "free_port", "served"]
