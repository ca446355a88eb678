"""A batch's end: closing, `station check`, reports (HTML, PDF)."""
