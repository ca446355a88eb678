"""The handheld (PDA) page: a small stdlib HTTP server, a JSON API over station.ship, one page."""
