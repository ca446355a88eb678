"""ESC/POS ticket printers (batch and pallet sheets, dispatch notes): driver, decoder, simulator."""
