"""The bundle's entry point: the `station` console script (what `make package` freezes)."""

import multiprocessing
import sys

from station.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # decoding worker processes in a frozen program
    sys.exit(main())
