"""LineStation station."""
