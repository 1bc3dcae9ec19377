#!/usr/bin/env python3
"""faster-whisper sidecar entry point. Started by handler/asr (never by hand in production):

    python sidecar/main.py --device cpu --compute-type int8 --cpu-threads 4 [--model-dir DIR]

Speaks the JSON-lines protocol described in sidecar/PROTOCOL.md on stdin/stdout; logs go to
stderr. Device and compute type are fixed for the life of the process (never "auto").
"""

import argparse
import logging
import os
import signal
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description="faster-whisper sidecar (JSON lines on stdin/stdout)")
    p.add_argument("--device", required=True, choices=["cpu", "cuda"])
    p.add_argument("--device-index", type=int, default=0)
    p.add_argument("--compute-type", required=True)
    p.add_argument("--cpu-threads", type=int, default=0, help="0: all cores")
    p.add_argument("--model-dir", default=None, help="download_root (Hugging Face cache for model names)")
    p.add_argument("--max-cached-models", type=int, default=1)
    p.add_argument("--idle-unload-ms", type=int, default=900000, help="0: never")
    p.add_argument(
        "--no-download",
        dest="allow_download",
        action="store_false",
        help="only use models already in the cache or local directories",
    )
    p.add_argument("--log-level", default="INFO")
    args = p.parse_args(argv)
    if args.cpu_threads <= 0:
        args.cpu_threads = os.cpu_count() or 1
    return args


def import_engine():
    """(faster_whisper module or None, versions dict). A missing engine is reported in hello."""
    versions = {"faster_whisper": None, "ctranslate2": None, "test_double": False}
    fw = None
    try:
        import faster_whisper as fw  # noqa: PLC0415 - import cost belongs to start-up

        versions["faster_whisper"] = getattr(fw, "__version__", None)
        versions["test_double"] = bool(getattr(fw, "IS_TEST_DOUBLE", False))
    except Exception as exc:  # noqa: BLE001
        versions["error"] = "%s: %s" % (type(exc).__name__, exc)
    try:
        import ctranslate2  # noqa: PLC0415

        versions["ctranslate2"] = getattr(ctranslate2, "__version__", None)
    except Exception:  # noqa: BLE001 - optional in tests (the double does not need it)
        pass
    return fw, versions


def main(argv=None):
    # Ctrl-C in a terminal reaches the whole process group; the worker, not the terminal, ends
    # this process (shutdown request or stdin EOF), after its last job is answered.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from asr_sidecar.protocol import Channel  # noqa: PLC0415
    from asr_sidecar.server import Server  # noqa: PLC0415

    channel = Channel()
    fw, versions = import_engine()
    if versions["test_double"]:
        logging.getLogger("asr_sidecar").warning("faster_whisper is the TEST DOUBLE: transcripts are fake")
    return Server(args, fw, versions, channel).run()


if __name__ == "__main__":
    sys.exit(main())
