"""Pure rules: no I/O, no SQL, no HTTP, no clock of its own (times are passed in)."""
