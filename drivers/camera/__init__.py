"""LineStation drivers/camera."""
