"""The sidecar's threads: a reader (so cancel/status/shutdown arrive during a job), a janitor
(idle unload) and the main thread, which runs load/transcribe requests one at a time."""

import logging
import os
import platform
import queue
import threading

from . import PROTOCOL_VERSION, engine_api
from .errors import Cancelled, SidecarError
from .jobs import Job, run_transcribe
from .models import ModelCache
from .protocol import ProtocolError

log = logging.getLogger("asr_sidecar")


def _rss_mb():
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


class Server:
    def __init__(self, cfg, fw, versions, channel):
        self.cfg = cfg
        self.fw = fw
        self.versions = versions
        self.channel = channel
        self.device = cfg.device
        self.compute_type = cfg.compute_type
        self.allow_download = cfg.allow_download
        self.cache = ModelCache(
            self._load_model,
            cfg.max_cached_models,
            cfg.idle_unload_ms / 1000.0,
            on_unload=lambda name, reason: self.send({"type": "unloaded", "model": name, "reason": reason}),
        )
        self.work = queue.Queue()
        self.current = None
        self.jobs = {}  # id -> Job, from the moment the reader queues it until it is answered
        self.exit_code = 0
        self._stop = threading.Event()

    def send(self, message):
        self.channel.send(message)

    def _load_model(self, name, local_files_only):
        if self.fw is None:
            raise SidecarError("model_load_failed", "faster_whisper is not importable: %s" % self.versions.get("error"))
        return self.fw.WhisperModel(
            **engine_api.model_kwargs(
                name,
                self.device,
                self.cfg.device_index,
                self.compute_type,
                self.cfg.cpu_threads,
                self.cfg.model_dir,
                local_files_only,
            )
        )

    # ----- threads --------------------------------------------------------------------------

    def run(self) -> int:
        self.send(
            dict(
                self.versions,
                type="hello",
                protocol=PROTOCOL_VERSION,
                pid=os.getpid(),
                python=platform.python_version(),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.cfg.cpu_threads,
                max_cached_models=self.cfg.max_cached_models,
                model_idle_unload_ms=self.cfg.idle_unload_ms,
            )
        )
        threading.Thread(target=self._reader, name="reader", daemon=True).start()
        threading.Thread(target=self._janitor, name="janitor", daemon=True).start()
        while True:
            kind, payload = self.work.get()
            if kind == "shutdown":
                break
            self._handle(kind, payload)
        self._stop.set()
        self.send({"type": "bye"})
        return self.exit_code

    def _janitor(self):
        interval = self.cache.sweep_interval_s()
        while not self._stop.wait(interval):
            try:
                self.cache.sweep()
            except Exception:  # the janitor must survive
                log.exception("idle sweep failed")

    def _reader(self):
        try:
            while True:
                request = self.channel.read()
                if request is None:
                    log.info("stdin closed: shutting down")
                    break
                header, pcm = request
                kind = header["type"]
                if kind == "cancel":
                    self._cancel(header.get("id"))
                elif kind == "status":
                    self.send(
                        {
                            "type": "status",
                            "id": header.get("id"),
                            "models": self.cache.snapshot(),
                            "rss_mb": _rss_mb(),
                            "busy": self.current.id if self.current else None,
                        }
                    )
                elif kind == "shutdown":
                    break
                elif kind == "transcribe":
                    job = Job(header, pcm)
                    self.jobs[job.id] = job
                    self.work.put((kind, job))
                elif kind == "load":
                    self.work.put((kind, header))
                else:
                    self.send(
                        {
                            "type": "error",
                            "id": header.get("id"),
                            "code": "invalid_request",
                            "message": "unknown request type %r" % kind,
                            "retryable": False,
                        }
                    )
        except ProtocolError as exc:
            self.send({"type": "error", "id": None, "code": "protocol_error", "message": str(exc), "retryable": False})
            self.exit_code = 3
        except Exception:  # any other failure ends the reader cleanly; logged with its traceback
            log.exception("reader failed")
            self.exit_code = 3
        for job in list(self.jobs.values()):
            job.cancel()
        self.work.put(("shutdown", None))

    def _cancel(self, job_id):
        # Only a queued or running job can be cancelled: a late cancel must not poison a
        # later request that reuses the id (a queue retry of the same job).
        job = self.jobs.get(job_id)
        if job is not None:
            job.cancel()

    # ----- requests ---------------------------------------------------------------------------

    def _handle(self, kind, payload):
        if kind == "load":
            self._load(payload)
            return
        job = payload
        try:
            try:
                if job.cancelled:
                    raise Cancelled()
                self.current = job
                reply = {"type": "result", "id": job.id, "result": run_transcribe(job, self)}
            finally:
                # Idle again before the reply leaves: a status right after it must not see us busy.
                self.current = None
                job.pcm = None
                self.jobs.pop(job.id, None)
            self.send(reply)
        except SidecarError as err:
            self._error(job.id, err)
        except Exception as exc:  # never die on one bad request
            log.exception("request %s failed", job.id)
            self._error(job.id, SidecarError("transcribe_failed", "%s: %s" % (type(exc).__name__, exc)))

    def _load(self, header):
        req_id = header.get("id")
        name = header.get("model")
        try:
            if not isinstance(name, str) or not name:
                raise SidecarError("invalid_request", "load needs a model name or directory")
            _model, load_ms = self.cache.acquire(name, self.allow_download)
            del _model
            self.cache.release(name)
            self.send(
                {"type": "loaded", "id": req_id, "model": name, "cached": load_ms is None, "load_ms": load_ms or 0}
            )
        except SidecarError as err:
            self._error(req_id, err)
        except Exception as exc:  # mapped to a stable code; logged with its traceback
            log.exception("load %s failed", name)
            self._error(req_id, SidecarError("model_load_failed", "%s: %s" % (type(exc).__name__, exc)))

    def _error(self, req_id, err):
        self.send({"type": "error", "id": req_id, "code": err.code, "message": err.message, "retryable": err.retryable})
