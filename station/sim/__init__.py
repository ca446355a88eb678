"""The simulated world and the demos (`station demo`, `station sim --world`); used only by demos
and tests.
"""
