"""Empagraphic segments: the hysteresis that keeps a customer's segment from flipping on noise (`hysteresis`), the
reason in words (`reasons`), the day-to-day stability measure (`stability`) and the dbt model's table (`build`).

The rules themselves are SQL (models/intermediate/segments/int_customer_segment_rules.sql), their definitions in
seeds/empagraphic_segments.csv.
"""
