"""Diagnose step 5: what kind of environment the sidecar's interpreter is (stdlib only).

Prints one JSON object: executable, version, prefix, base_prefix, venv (an isolated virtual
environment), system_site_packages (a venv that also sees the system's packages) and
externally_managed (PEP 668: a distribution's Python that pip must not install into).
"""

import json
import os
import platform
import sys
import sysconfig


def venv_setting(prefix, key):
    cfg = os.path.join(prefix, "pyvenv.cfg")
    try:
        with open(cfg, encoding="utf-8") as f:
            for line in f:
                name, sep, value = line.partition("=")
                if sep and name.strip().lower() == key:
                    return value.strip().lower() == "true"
    except OSError:
        return None
    return None


def main():
    prefix = sys.prefix
    base = getattr(sys, "base_prefix", prefix)
    venv = prefix != base
    stdlib = sysconfig.get_path("stdlib") or ""
    print(
        json.dumps(
            {
                "executable": sys.executable,
                "version": platform.python_version(),
                "prefix": prefix,
                "base_prefix": base,
                "venv": venv,
                "system_site_packages": venv_setting(prefix, "include-system-site-packages") if venv else None,
                "externally_managed": (not venv) and os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED")),
            }
        )
    )


if __name__ == "__main__":
    main()
