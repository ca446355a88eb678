"""What runs beside the line: the OPC UA face for MES/SCADA, alerts to phones, `station serve`.

`links.open_links` builds whichever of them config.toml asks for and feeds them from the line's
signals; `station demo`, `station run` and `station serve` all use it.
"""
