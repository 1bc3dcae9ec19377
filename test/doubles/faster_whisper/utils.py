"""TEST DOUBLE of faster_whisper.utils (1.2.1).

_MODELS, available_models, format_timestamp and get_logger match the real module.
download_model simulates the Hugging Face hub cache on disk instead of downloading: it
returns a cached snapshot when one exists, fails like huggingface_hub when
local_files_only=True and nothing is cached (or FAKE_FW_OFFLINE=1 simulates no network),
and otherwise "downloads" by writing small fake model files into the cache.
"""

import json
import logging
import os
import re

from typing import List, Optional, Union

_MODELS = {
    "tiny.en": "Systran/faster-whisper-tiny.en",
    "tiny": "Systran/faster-whisper-tiny",
    "base.en": "Systran/faster-whisper-base.en",
    "base": "Systran/faster-whisper-base",
    "small.en": "Systran/faster-whisper-small.en",
    "small": "Systran/faster-whisper-small",
    "medium.en": "Systran/faster-whisper-medium.en",
    "medium": "Systran/faster-whisper-medium",
    "large-v1": "Systran/faster-whisper-large-v1",
    "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3",
    "large": "Systran/faster-whisper-large-v3",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
    "distil-large-v3.5": "distil-whisper/distil-large-v3.5-ct2",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}

# What a snapshot's refs/main points at in the simulated cache.
_FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"


class LocalEntryNotFoundError(FileNotFoundError, ValueError):
    """Same name and bases (minus the HTTP ones) as huggingface_hub.errors.LocalEntryNotFoundError."""


def available_models() -> List[str]:
    """Returns the names of available models."""
    return list(_MODELS.keys())


def get_assets_path():
    """Returns the path to the assets directory."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets")


def get_logger():
    """Returns the module logger."""
    return logging.getLogger("faster_whisper")


def _hub_cache_dir(cache_dir: Optional[str]) -> str:
    if cache_dir is not None:
        return cache_dir
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    hf_home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return os.path.join(hf_home, "hub")


def write_fake_model_dir(path: str, multilingual: bool = True, n_mels: int = 80) -> None:
    """Writes the files a converted model directory holds (tiny fake contents)."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"fake_is_multilingual": multilingual, "num_mel_bins": n_mels, "test_double": True}, f)
    with open(os.path.join(path, "model.bin"), "wb") as f:
        f.write(b"TEST DOUBLE: not a CTranslate2 model\n")
    with open(os.path.join(path, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write("{}")
    with open(os.path.join(path, "vocabulary.json"), "w", encoding="utf-8") as f:
        f.write("[]")
    with open(os.path.join(path, "preprocessor_config.json"), "w", encoding="utf-8") as f:
        json.dump({"feature_size": n_mels, "sampling_rate": 16000, "hop_length": 160, "chunk_length": 30, "n_fft": 400}, f)


def download_model(
    size_or_id: str,
    output_dir: Optional[str] = None,
    local_files_only: bool = False,
    cache_dir: Optional[str] = None,
    revision: Optional[str] = None,
    use_auth_token: Optional[Union[str, bool]] = None,
):
    """Simulated download (see module docstring). Same signature as the real one."""
    if re.match(r".*/.*", size_or_id):
        repo_id = size_or_id
    else:
        repo_id = _MODELS.get(size_or_id)
        if repo_id is None:
            raise ValueError(
                "Invalid model size '%s', expected one of: %s"
                % (size_or_id, ", ".join(_MODELS.keys()))
            )

    if output_dir is not None:
        snapshot = output_dir
    else:
        repo_dir = os.path.join(_hub_cache_dir(cache_dir), "models--" + repo_id.replace("/", "--"))
        snapshot = os.path.join(repo_dir, "snapshots", revision or _FAKE_COMMIT)

    if os.path.isfile(os.path.join(snapshot, "model.bin")):
        return snapshot
    if local_files_only:
        raise LocalEntryNotFoundError(
            "Cannot find an appropriate cached snapshot folder for the specified revision on the local "
            "disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, "
            "pass 'local_files_only=False' as input."
        )
    if os.environ.get("FAKE_FW_OFFLINE") == "1":
        raise LocalEntryNotFoundError(
            "An error happened while trying to locate the files on the Hub and we cannot find the "
            "appropriate snapshot folder for the specified revision on the local disk. Please check "
            "your internet connection and try again or make sure your Hub repository has the "
            "appropriate files."
        )
    write_fake_model_dir(snapshot, multilingual=not repo_id.endswith(".en"),
                         n_mels=128 if ("large-v3" in repo_id or "turbo" in repo_id) else 80)
    return snapshot


def format_timestamp(
    seconds: float,
    always_include_hours: bool = False,
    decimal_marker: str = ".",
) -> str:
    assert seconds >= 0, "non-negative timestamp expected"
    milliseconds = round(seconds * 1000.0)

    hours = milliseconds // 3_600_000
    milliseconds -= hours * 3_600_000

    minutes = milliseconds // 60_000
    milliseconds -= minutes * 60_000

    seconds = milliseconds // 1_000
    milliseconds -= seconds * 1_000

    hours_marker = f"{hours:02d}:" if always_include_hours or hours > 0 else ""
    return (
        f"{hours_marker}{minutes:02d}:{seconds:02d}{decimal_marker}{milliseconds:03d}"
    )
