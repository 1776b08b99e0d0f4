"""Predictions: churn, lifetime value, next action."""
