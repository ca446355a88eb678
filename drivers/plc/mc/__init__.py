"""Mitsubishi MC protocol, 3E binary frame (SLMP): codec, address map, driver, simulator."""
