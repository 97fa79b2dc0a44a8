"""`python -m tierstock.cli`: the same as the `tierstock` console script."""

from tierstock.cli import main

main()
