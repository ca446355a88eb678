"""Outbound shipping (出库): orders, scans of pallets, cases, items and ranges, close and send."""
