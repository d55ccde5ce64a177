"""The catalogue's services: every write of its tables."""
