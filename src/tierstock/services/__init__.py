"""Use cases. Each takes a command (plain values) and a unit of work, makes one domain
decision and commits; the API, the CLI and the demo call the same functions."""
