"""TEST DOUBLE of faster_whisper.vad (1.2.1).

VadOptions has exactly 1.2.1's six fields and defaults (min_silence_at_max_speech and
use_max_poss_sil_at_max_speech came after 1.2.1: passing them raises TypeError, as in 1.2.1).
get_speech_timestamps is a crude energy gate instead of Silero: one region from the first to
the last sample whose magnitude reaches 1e-3, padded by speech_pad_ms.
"""

from dataclasses import dataclass
from typing import List, Optional

import numpy as np


@dataclass
class VadOptions:
    """VAD options (1.2.1)."""

    threshold: float = 0.5
    neg_threshold: float = None
    min_speech_duration_ms: int = 0
    max_speech_duration_s: float = float("inf")
    min_silence_duration_ms: int = 2000
    speech_pad_ms: int = 400


def get_speech_timestamps(
    audio: np.ndarray,
    vad_options: Optional[VadOptions] = None,
    sampling_rate: int = 16000,
    **kwargs,
) -> List[dict]:
    if vad_options is None:
        vad_options = VadOptions(**kwargs)
    # The real function does arithmetic with every field: a value of the wrong type fails here.
    pad = int(sampling_rate * vad_options.speech_pad_ms / 1000)
    min_speech = sampling_rate * vad_options.min_speech_duration_ms / 1000
    max_speech = sampling_rate * vad_options.max_speech_duration_s
    loud = np.flatnonzero(np.abs(audio) >= 1e-3) if audio.shape[0] else np.array([], dtype=np.int64)
    if loud.size == 0:
        return []
    start, end = int(loud[0]), int(loud[-1]) + 1
    if end - start <= min_speech:
        return []
    start, end = max(0, start - pad), min(audio.shape[0], end + pad)
    chunks = []
    step = int(max_speech) if max_speech != float("inf") and max_speech > 0 else end - start
    for s in range(start, end, max(1, step)):
        chunks.append({"start": s, "end": min(end, s + step)})
    return chunks
