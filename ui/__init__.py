"""LineStation ui."""
