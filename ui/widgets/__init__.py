"""PySide6 widgets: each screen binds to its Qt-free view model."""
