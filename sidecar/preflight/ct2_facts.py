"""Tier 0 of the CUDA preflight: what ctranslate2 is installed and what it sees.

Runs in a throwaway child process with the environment the sidecar will get (LD_LIBRARY_PATH
included) and prints one JSON object on stdout. Importing ctranslate2 and counting devices
never touches cuBLAS/cuDNN, so this cannot abort; it is still run with a timeout by the parent.
"""

import json
import platform
import sys


def main():
    out = {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "ctranslate2": None,
        "ctranslate2_path": None,
        "import_error": None,
        "cuda_device_count": 0,
        "cuda_compute_types": None,
        "cuda_compute_types_error": None,
    }
    try:
        import ctranslate2
    except Exception as e:  # noqa: BLE001 - ImportError, or an OSError from a broken wheel: reported
        out["import_error"] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(out))
        return
    out["ctranslate2"] = getattr(ctranslate2, "__version__", None)
    out["ctranslate2_path"] = getattr(ctranslate2, "__file__", None)
    out["cuda_device_count"] = int(ctranslate2.get_cuda_device_count())
    # What is known so far, in case the CUDA query below takes the process down.
    print(json.dumps(out), flush=True)
    # Asked even with 0 devices: the error tells a CPU-only build (ValueError "not compiled
    # with CUDA support") from a CUDA build that cannot reach a device (RuntimeError).
    try:
        out["cuda_compute_types"] = sorted(ctranslate2.get_supported_compute_types("cuda"))
    except Exception as e:  # noqa: BLE001 - which error it is tells the builds apart (above)
        out["cuda_compute_types_error"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
