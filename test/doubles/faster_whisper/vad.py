"""TEST DOUBLE of faster_whisper.vad (1.2.1): VadOptions with the real fields and defaults.

The speech detector itself is a trivial energy gate (see _fake.speech_regions), not Silero.
"""

from dataclasses import dataclass


@dataclass
class VadOptions:
    """VAD options (same fields and defaults as faster-whisper 1.2.1)."""

    threshold: float = 0.5
    neg_threshold: float = None
    min_speech_duration_ms: int = 0
    max_speech_duration_s: float = float("inf")
    min_silence_duration_ms: int = 2000
    speech_pad_ms: int = 400
    min_silence_at_max_speech: int = 98
    use_max_poss_sil_at_max_speech: bool = True
