"""Inkjet wire protocols: one module per protocol, each defining `CODEC` (see messages.Codec)."""
