"""Tier 1 of the CUDA preflight: dlopen exactly the given sonames.

Usage: dlopen_check.py SONAME... ; prints one JSON object on stdout:
  {"libraries": [{"soname", "ok", "path", "error"}], "cuda13": {"soname", "ok", "path"}}
glibc reads LD_LIBRARY_PATH once at process start, so the parent sets it in this process's
environment; a fresh process also keeps a library that aborts on load away from the worker.
"""

import ctypes
import json
import sys

RTLD_DI_LINKMAP = 2


class _LinkMap(ctypes.Structure):
    _fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p)]


def _dlinfo():
    for name in (None, "libdl.so.2"):
        try:
            fn = ctypes.CDLL(name).dlinfo
            fn.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
            fn.restype = ctypes.c_int
            return fn
        except (OSError, AttributeError):
            continue
    return None


DLINFO = _dlinfo()


def where(lib):
    """The path the dynamic loader picked for a loaded library, when glibc can tell."""
    if DLINFO is None:
        return None
    lm = ctypes.POINTER(_LinkMap)()
    if DLINFO(lib._handle, RTLD_DI_LINKMAP, ctypes.byref(lm)) != 0 or not lm:
        return None
    name = lm.contents.l_name
    return name.decode("utf-8", "replace") if name else None


def try_load(soname):
    try:
        lib = ctypes.CDLL(soname)
    except OSError as e:
        return {"soname": soname, "ok": False, "path": None, "error": str(e)}
    return {"soname": soname, "ok": True, "path": where(lib), "error": None}


def main(argv):
    results = [try_load(s) for s in argv]
    # ctranslate2 4.x cannot use CUDA 13's cuBLAS; say so when that is all the host has.
    cuda13 = try_load("libcublas.so.13")
    print(json.dumps({"libraries": results, "cuda13": cuda13}))


if __name__ == "__main__":
    main(sys.argv[1:])
