"""LineStation drivers/plc."""
