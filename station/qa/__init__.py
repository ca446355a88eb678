"""QA on the station: a code's history, the reject queue, decisions, rework (replace, unpack,
aggregate, relabel).
"""
