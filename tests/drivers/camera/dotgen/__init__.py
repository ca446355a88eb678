"""Independent dot-matrix test frames (not derived from drivers/camera/sim.py): see scene.py."""

from .scene import Truth, case_top, single_cap
from .symbols import KINDS, Symbol, make_symbol, random_symbol

__all__ = ["KINDS", "Symbol", "Truth", "case_top", "make_symbol", "random_symbol", "single_cap"]
