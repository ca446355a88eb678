"""LineStation drivers/labels."""
