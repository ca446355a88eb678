"""Siemens S7 over ISO-on-TCP (python-snap7): address map, driver, simulator on snap7's server."""
