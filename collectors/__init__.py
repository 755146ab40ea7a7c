"""Collectors: one module per kind of source (files, HTTP JSON APIs, HTML tables).

Collectors hand normalised records to ``monitor.store`` and never write SQL themselves.
"""
