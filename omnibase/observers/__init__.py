"""Observers of a run's event stream, and the trace-context helpers they share."""
