"""TEST DOUBLE of faster_whisper.audio.

The real decode_audio uses PyAV (any container/codec). This double decodes only RIFF/WAVE
PCM 16-bit files with the standard library and resamples linearly: enough for tests.
"""

import wave
from typing import BinaryIO, Union

import numpy as np


def decode_audio(
    input_file: Union[str, BinaryIO],
    sampling_rate: int = 16000,
    split_stereo: bool = False,
):
    with wave.open(input_file, "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError("TEST DOUBLE decode_audio: only 16-bit PCM WAV is supported")
        channels = wav.getnchannels()
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    audio = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    audio = audio.reshape(-1, channels)
    if rate != sampling_rate and audio.shape[0] > 0:
        n_out = int(round(audio.shape[0] * sampling_rate / rate))
        x_old = np.arange(audio.shape[0]) / rate
        x_new = np.arange(n_out) / sampling_rate
        audio = np.stack([np.interp(x_new, x_old, audio[:, c]) for c in range(channels)], axis=1).astype(np.float32)
    if split_stereo:
        if channels != 2:
            raise ValueError("Expected stereo audio when split_stereo is True")
        return audio[:, 0].copy(), audio[:, 1].copy()
    return audio.mean(axis=1).astype(np.float32)


def pad_or_trim(array, length: int = 3000, *, axis: int = -1):
    if array.shape[axis] > length:
        array = array.take(indices=range(length), axis=axis)
    if array.shape[axis] < length:
        pad_widths = [(0, 0)] * array.ndim
        pad_widths[axis] = (0, length - array.shape[axis])
        array = np.pad(array, pad_widths)
    return array
