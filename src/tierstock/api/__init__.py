"""REST API (FastAPI). Routers translate HTTP to service commands and back; no SQL and
no rule lives here."""
