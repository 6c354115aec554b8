"""Learn CNNs: the course package (building, grading and exporting the course)."""
__version__ = "0.1.0"
