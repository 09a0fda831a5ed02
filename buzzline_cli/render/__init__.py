"""Renderers: how results look (config, alerts, tables, dashboard)."""
