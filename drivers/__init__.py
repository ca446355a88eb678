"""Device I/O only: inkjet, label, ticket printers, cameras, readers, PLC and scanners.

Nothing here imports station/, aggregation/, sync/ or ui/.
"""
