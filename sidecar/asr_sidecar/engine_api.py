"""Every place where the sidecar touches faster-whisper's objects beyond transcribe()'s keywords.

test/asr/record.integration.test.ts checks USES against the record of the pinned release
(test/doubles/faster-whisper-1.2.1.record.json): a name that the release does not have fails
there, not in production.
"""

import json
import os

USES = {
    # WhisperModel(...) keywords: model_kwargs() below.
    "faster_whisper.WhisperModel.__init__": [
        "model_size_or_path",
        "device",
        "device_index",
        "compute_type",
        "cpu_threads",
        "download_root",
        "local_files_only",
    ],
    # Attributes read from a loaded WhisperModel.
    "faster_whisper.WhisperModel": ["model", "hf_tokenizer"],
    "ctranslate2.models.Whisper.methods": ["unload_model"],
    "tokenizers.Tokenizer.get_vocab_size": ["with_added_tokens"],
    # Fields read from the results.
    "faster_whisper.transcribe.TranscriptionInfo": [
        "language",
        "language_probability",
        "duration",
        "duration_after_vad",
        "transcription_options",
    ],
    "faster_whisper.transcribe.TranscriptionOptions": ["temperatures"],
    "faster_whisper.transcribe.Segment": [
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
        "words",
    ],
    "faster_whisper.transcribe.Word": ["start", "end", "word", "probability"],
}


def model_kwargs(name, device, device_index, compute_type, cpu_threads, download_root, local_files_only):
    return dict(
        model_size_or_path=name,
        device=device,
        device_index=device_index,
        compute_type=compute_type,
        cpu_threads=cpu_threads,
        download_root=download_root,
        local_files_only=local_files_only,
    )


def _vocabulary_file_size(path):
    """Entries of the converted model's vocabulary file (the decoder's output size), if any."""
    for name in ("vocabulary.json", "vocabulary.txt"):
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        try:
            if name.endswith(".json"):
                with open(full, encoding="utf-8") as f:
                    entries = json.load(f)
                return len(entries) if isinstance(entries, list) and entries else None
            with open(full, encoding="utf-8") as f:
                return sum(1 for _ in f) or None
        except (OSError, ValueError):
            return None
    return None


def vocabulary_size(model, model_dir=None):
    """Token ids the loaded model can take: ctranslate2 writes logits[id] for each suppressed id
    without a bounds check, so nothing at or above this may reach it. ctranslate2's Whisper has
    no vocabulary property: the tokenizer faster-whisper loaded with the model (special tokens
    included) gives it; the model directory's vocabulary file, when readable, can only lower it."""
    size = int(model.hf_tokenizer.get_vocab_size(with_added_tokens=True))
    if model_dir and os.path.isdir(model_dir):
        from_file = _vocabulary_file_size(model_dir)
        if from_file:
            size = min(size, from_file)
    return size


def unload(model):
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "unload_model"):
        inner.unload_model()


def temperatures(info):
    """The live temperature list of a running transcription: faster-whisper's fallback loop
    iterates over this very list object at every window, so shortening it in place stops the
    loop after the decode in flight (the best result so far is kept) and every later window
    decodes once."""
    return info.transcription_options.temperatures
