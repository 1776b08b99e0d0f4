"""Customer state over time: event effects and related estimators."""
