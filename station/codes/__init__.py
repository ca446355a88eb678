"""Codes: generation (serials, GS1, SSCC, Digital Link), code files and packs, pools, masking of
secret codes.
"""
