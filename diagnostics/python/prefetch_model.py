"""`npm run setup`: put the configured Whisper model into the cache the sidecar reads.

Usage: prefetch_model.py MODEL [MODEL_DIR]
MODEL is a faster-whisper name (tiny ... large-v3, turbo) or a Hugging Face repo id; MODEL_DIR
is the sidecar's download_root (unset: the Hugging Face cache). Uses faster-whisper's own
download_model, so the files land exactly where WhisperModel(download_root=MODEL_DIR) looks.
A complete cached model is not downloaded again; an incomplete one is completed. Prints one JSON line:
  {"status": "present" | "downloaded" | "local_dir", "path": ...}
Exit status: 0 done, 1 download failed, 3 faster-whisper is not installed.
"""

import json
import os
import sys


def complete(path):
    """The files WhisperModel reads (preprocessor_config.json only exists for some models)."""
    try:
        names = os.listdir(path)
    except OSError:
        return False
    return all(f in names for f in ("config.json", "model.bin", "tokenizer.json")) and any(
        n.startswith("vocabulary.") for n in names
    )


def main(argv):
    if not argv:
        print("usage: prefetch_model.py MODEL [MODEL_DIR]", file=sys.stderr)
        return 2
    name = argv[0]
    cache_dir = argv[1] if len(argv) > 1 and argv[1] else None
    if os.path.isdir(name):
        print(json.dumps({"status": "local_dir", "path": os.path.abspath(name)}))
        return 0
    try:
        from faster_whisper.utils import download_model
    except ImportError as e:
        print(json.dumps({"status": "no_faster_whisper", "error": str(e)}))
        return 3
    try:
        path = download_model(name, local_files_only=True, cache_dir=cache_dir)
        if complete(path):
            print(json.dumps({"status": "present", "path": path}))
            return 0
    except Exception:  # noqa: BLE001 - not cached: download below
        pass
    try:
        path = download_model(name, cache_dir=cache_dir)
    except Exception as e:  # noqa: BLE001 - reported to the installer, which stops this branch
        print(json.dumps({"status": "failed", "error": "%s: %s" % (type(e).__name__, e)}))
        return 1
    print(json.dumps({"status": "downloaded", "path": path}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
