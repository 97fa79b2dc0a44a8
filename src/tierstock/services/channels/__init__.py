"""Channels: one stock pool sold in several platform stores (docs/rules.md §10) —
set-up (setup.py), quotas (quotas.py), stock out (relay.py), orders in (orders_in.py),
drift repair (reconcile.py), the loop that runs them (worker.py)."""
