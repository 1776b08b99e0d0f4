"""Dagster definitions of the pipeline: the gate, every dbt model and publish as assets (optional extra
``orchestration``; see ``definitions.py`` and ``make orchestrate``)."""
