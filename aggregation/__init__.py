"""LineStation aggregation."""
