"""Loaded models: an LRU of at most max_models, each unloaded after idle_s without use.

Unloading drops every reference, asks CTranslate2 to free the weights (unload_model) and runs
gc.collect(), so host/GPU memory is returned before the next model loads.
"""

import gc
import logging
import os
import threading
import time
from collections import OrderedDict

from . import engine_api
from .errors import SidecarError, classify_load_error

log = logging.getLogger("asr_sidecar.models")

MODEL_FILES = ("config.json", "model.bin")


class ModelCache:
    def __init__(self, load_fn, max_models: int, idle_s: float, on_unload=None):
        self._load_fn = load_fn  # (name, local_files_only) -> model
        self._max = max(1, max_models)
        self._idle_s = idle_s
        self._on_unload = on_unload or (lambda name, reason: None)
        self._lock = threading.Lock()
        self._entries = OrderedDict()  # name -> {"model", "last_used", "in_use"}

    def acquire(self, name: str, allow_download: bool):
        """The model, loaded if needed; returns (model, load_ms or None when cached)."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                entry["in_use"] += 1
                entry["last_used"] = time.monotonic()
                self._entries.move_to_end(name)
                return entry["model"], None
        # Make room first: two large models at once may not fit.
        self._evict(keep=self._max - 1)
        started = time.monotonic()
        model = self._load(name, allow_download)
        load_ms = int((time.monotonic() - started) * 1000)
        with self._lock:
            self._entries[name] = {"model": model, "last_used": time.monotonic(), "in_use": 1}
        self._evict(keep=self._max)
        return model, load_ms

    def release(self, name: str) -> None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                entry["in_use"] = max(0, entry["in_use"] - 1)
                entry["last_used"] = time.monotonic()

    def _load(self, name: str, allow_download: bool):
        if os.path.isdir(name):
            missing = [f for f in MODEL_FILES if not os.path.isfile(os.path.join(name, f))]
            if missing:
                raise SidecarError("model_not_found", "model directory %s lacks %s" % (name, ", ".join(missing)))
            attempts = [False]
        else:
            # Offline first: a cached model must load with no network at all.
            attempts = [True, False] if allow_download else [True]
        for i, local_only in enumerate(attempts):
            try:
                return self._load_fn(name, local_only)
            except Exception as exc:  # noqa: BLE001 - every failure maps to a stable code
                err = classify_load_error(exc, downloads_tried=not local_only)
                if err.code == "model_not_found" and i + 1 < len(attempts):
                    log.info("model %s not cached, downloading", name)
                    continue
                if err.code == "model_not_found" and local_only and not os.path.isdir(name):
                    err = SidecarError(
                        "model_not_found", "%s (not in the model cache, and downloads are off)" % err.message
                    )
                raise err from None
        raise SidecarError("model_not_found", "model %s not found" % name)

    def sweep(self) -> None:
        """Unloads models idle longer than idle_s (0 disables)."""
        if self._idle_s <= 0:
            return
        now = time.monotonic()
        with self._lock:
            idle = [n for n, e in self._entries.items() if e["in_use"] == 0 and now - e["last_used"] >= self._idle_s]
        for name in idle:
            self._unload(name, "idle")

    def _evict(self, keep: int) -> None:
        while True:
            with self._lock:
                victims = [n for n, e in self._entries.items() if e["in_use"] == 0]
                if len(self._entries) <= keep or not victims:
                    return
                name = victims[0]  # least recently used
            self._unload(name, "lru")

    def _unload(self, name: str, reason: str) -> None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None or entry["in_use"] > 0:
                return
            del self._entries[name]
        model = entry.pop("model")
        try:
            engine_api.unload(model)
        except Exception:  # freeing is best effort; the references go below
            log.exception("unload_model failed for %s", name)
        del model, entry
        gc.collect()
        log.info("unloaded model %s (%s)", name, reason)
        self._on_unload(name, reason)

    def snapshot(self) -> list:
        now = time.monotonic()
        with self._lock:
            return [
                {"model": n, "idle_s": round(now - e["last_used"], 3), "in_use": e["in_use"]}
                for n, e in self._entries.items()
            ]

    def sweep_interval_s(self) -> float:
        return max(0.05, min(5.0, self._idle_s / 4)) if self._idle_s > 0 else 5.0
