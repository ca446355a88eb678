"""LineStation drivers/inkjet."""
