"""faster-whisper sidecar: a long-lived process speaking versioned JSON lines (see PROTOCOL.md)."""

PROTOCOL_VERSION = 1
SAMPLE_RATE = 16000
