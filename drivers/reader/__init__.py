"""LineStation drivers/reader."""
