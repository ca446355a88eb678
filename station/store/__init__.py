"""The store: engine and migrations, typed models, the code lifecycle (the only way a state moves),
batches, the audit chain, backup.
"""
