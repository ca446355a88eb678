"""Data upstream: a closed batch read for the exporters, sealed file sets, the outbox and its
sender.
"""
