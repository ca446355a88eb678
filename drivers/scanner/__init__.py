"""LineStation drivers/scanner."""
