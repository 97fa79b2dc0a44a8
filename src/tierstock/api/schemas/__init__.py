"""The API contract, one module per resource: ``XCreate``/``XUpdate`` in, ``XPublic`` out."""
