"""LineStation sync."""
