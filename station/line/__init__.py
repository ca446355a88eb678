"""The line at run time: the runner and its stations, the write-ahead line store, the controller
the UI talks to, `station run`, device tests.
"""
