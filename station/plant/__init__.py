"""Plant mode: blocks of codes on a shared PostgreSQL, the plant status, and the plant link of a
line on its own store.
"""
