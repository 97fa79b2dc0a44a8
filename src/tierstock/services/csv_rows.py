"""CSV as merchants send it: any line ends (\\n, \\r\\n, old Mac \\r), and a file that is not
CSV at all is a refusal naming the field, never a server error."""

from __future__ import annotations

import csv
import io

from tierstock.domain.errors import InvalidValueError


def csv_rows(text: str, field: str) -> list[list[str]]:
    try:
        # newline="": let the csv module see \r and \r\n line ends itself
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InvalidValueError(f"not valid CSV: {exc}", field=field) from None
