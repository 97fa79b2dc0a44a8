"""The optional Redis reservation front: leases, one Lua script per order, the fold."""
