"""hipline: progress tracking for Pilates-based rehabilitation of hip, knee and low-back pain."""

__version__ = "0.1.0"
