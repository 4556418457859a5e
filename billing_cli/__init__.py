"""Thin CLI around the billing dbt project: compile metrics, land events, build, export."""

__version__ = "0.1.0"
