"""A run: the recorder (record), what it gives (result), scripted runs of the examples (scenarios), and
recordings saved compactly (saved)."""
