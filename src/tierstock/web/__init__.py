"""Merchant workbench: server-rendered pages (Jinja2 + htmx), zh-CN and English.

Mounted on the API app by :func:`tierstock.web.app.mount`.
"""
