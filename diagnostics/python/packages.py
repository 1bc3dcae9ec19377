"""Diagnose step 6: installed versions of the sidecar's packages, without importing them.

Usage: packages.py MODULE=DIST[,DIST...] ...
Prints one JSON object {"packages": {MODULE: {"dist", "version", "importable", "location"}}}:
the version from the package metadata (importlib.metadata; the first DIST found), and whether
the module can be found on sys.path (importlib.util.find_spec, which runs no package code; so
a heavy or broken package costs nothing here).
"""

import importlib.util
import json
import sys
from importlib import metadata


def one(module, dists):
    found, version = None, None
    for dist in dists:
        try:
            version = metadata.version(dist)
            found = dist
            break
        except metadata.PackageNotFoundError:
            continue
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    location = None
    if spec is not None:
        if spec.origin and spec.origin != "namespace":
            location = spec.origin
        elif spec.submodule_search_locations:
            location = next(iter(spec.submodule_search_locations))
    return {"dist": found, "version": version, "importable": spec is not None, "location": location}


def main(argv):
    out = {}
    for arg in argv:
        module, _, dists = arg.partition("=")
        out[module] = one(module, [d for d in dists.split(",") if d] or [module])
    print(json.dumps({"packages": out}))


if __name__ == "__main__":
    main(sys.argv[1:])
