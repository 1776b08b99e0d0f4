"""Activation: consent coverage, suppression and next best actions (the rules themselves are SQL models)."""
