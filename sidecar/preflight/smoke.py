"""Tier 2 of the CUDA preflight: load the model on CUDA and transcribe a real clip.

Usage: smoke.py --model NAME_OR_DIR --compute-type TYPE --wav PATH [--download-root DIR]
                [--device-index N] [--language en] [--local-files-only]
Prints JSON lines on stdout: {"event": "phase", "phase": ...} before each step, then
{"event": "result", "text", ...} or {"event": "error", "error_type", "message", "phase"}
(exit 1). Missing cuDNN aborts the process (SIGABRT) inside the first encoder pass: nothing
here can catch that, which is why the parent runs this in its own process and classifies
the exit status.
"""

import argparse
import json
import sys
import time
import wave


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_wav(path):
    """16 kHz mono 16-bit PCM -> float32 numpy array in [-1, 1], as faster-whisper expects."""
    import numpy as np

    with wave.open(path, "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != 16000:
            raise ValueError(
                "%s must be 16 kHz mono 16-bit PCM (got %d Hz, %d channel(s), %d bytes/sample)"
                % (path, w.getframerate(), w.getnchannels(), w.getsampwidth())
            )
        frames = w.readframes(w.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--compute-type", required=True)
    p.add_argument("--wav", required=True)
    p.add_argument("--download-root", default=None)
    p.add_argument("--device-index", type=int, default=0)
    p.add_argument("--language", default="en")
    p.add_argument("--local-files-only", action="store_true", help="MODEL_DOWNLOAD=never: no download")
    a = p.parse_args()

    phase = "import"
    try:
        emit({"event": "phase", "phase": phase})
        audio = read_wav(a.wav)
        from faster_whisper import WhisperModel

        phase = "load"
        emit({"event": "phase", "phase": phase})
        t0 = time.monotonic()
        # Never device="auto": it picks CUDA whenever a GPU is counted, which is what we test.
        model = WhisperModel(
            a.model,
            device="cuda",
            device_index=a.device_index,
            compute_type=a.compute_type,
            download_root=a.download_root,
            local_files_only=a.local_files_only,
        )
        load_ms = int((time.monotonic() - t0) * 1000)

        phase = "transcribe"
        emit({"event": "phase", "phase": phase})
        t1 = time.monotonic()
        segments, info = model.transcribe(
            audio, language=a.language, beam_size=1, temperature=0.0, condition_on_previous_text=False
        )
        # Decoding is lazy: the encoder (and any missing CUDA library) runs while iterating.
        text = " ".join(s.text.strip() for s in segments).strip()
        emit(
            {
                "event": "result",
                "text": text,
                "language": getattr(info, "language", None),
                "load_ms": load_ms,
                "transcribe_ms": int((time.monotonic() - t1) * 1000),
            }
        )
    except Exception as e:  # noqa: BLE001 - every failure is reported, with its phase, to the preflight
        emit({"event": "error", "phase": phase, "error_type": type(e).__name__, "message": str(e)[:2000]})
        sys.exit(1)


if __name__ == "__main__":
    main()
