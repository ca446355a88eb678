"""Data upstream: a closed batch read for the exporters, sealed file sets, a batch's units (a
closed pallet each, the close, corrections, QA's verdict: units, chain, delta, ledger), the
outbox and its sender.
"""
