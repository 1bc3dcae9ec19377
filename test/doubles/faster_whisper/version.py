"""Version information (TEST DOUBLE of faster-whisper 1.2.1)."""

__version__ = "1.2.1"
