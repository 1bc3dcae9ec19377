"""
#########################################################################################
#  TEST DOUBLE -- THIS IS NOT faster-whisper.                                             #
#                                                                                         #
#  A stand-in with faster-whisper 1.2.1's public surface (names, constructor and          #
#  transcribe() keyword names and defaults, dataclasses) that produces a DETERMINISTIC    #
#  FAKE transcript and injects the engine's real failure modes from environment           #
#  variables. It runs no model and recognises no speech. Used only by tests and           #
#  benchmarks (PYTHONPATH=test/doubles); never installed by setup, never chosen by the    #
#  worker. The environment variables are documented in faster_whisper/_fake.py.           #
#########################################################################################
"""

from faster_whisper.audio import decode_audio
from faster_whisper.transcribe import BatchedInferencePipeline, WhisperModel
from faster_whisper.utils import available_models, download_model, format_timestamp
from faster_whisper.version import __version__

IS_TEST_DOUBLE = True

__all__ = [
    "available_models",
    "decode_audio",
    "WhisperModel",
    "BatchedInferencePipeline",
    "download_model",
    "format_timestamp",
    "__version__",
]
