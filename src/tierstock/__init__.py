"""tierstock: stock and shipping promises for live-stream merchants.

Spot, presale and tiered spot + presale stock that never oversells, with the ship-by
promise of every unit fixed at payment (see docs/rules.md §1–3).
"""

__version__ = "0.1.0"
