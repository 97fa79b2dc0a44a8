"""One router per workbench page."""
