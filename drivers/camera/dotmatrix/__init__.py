"""The dot-matrix decode path: caps found, lattice measured, symbols re-rendered for zxing."""
