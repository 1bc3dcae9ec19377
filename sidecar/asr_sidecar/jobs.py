"""One transcription request: options -> engine call(s) -> result dict.

faster-whisper's segment generator is lazy and works per 30 s window: a window's whole cost
(every decode of its temperature fallback) is paid before its first segment. So:
- progress, streamed segments, cancellation and the deadline act between segments;
- the compute budget and a cancel also shorten the live temperature list (engine_api.temperatures):
  the window in flight stops after its current decode and keeps its best result so far, and every
  later window decodes once. A single decode cannot be interrupted; the Node side kills the
  process if a cancel takes longer than its grace period.
- segment and word times are clipped to the audio (the model may report a window's end).
"""

import math
import threading
import time

import numpy as np

from . import SAMPLE_RATE, engine_api, options
from .errors import Cancelled, SidecarError, classify_transcribe_error
from .formats import RENDER, render_all


class Job:
    def __init__(self, header: dict, pcm):
        self.id = header.get("id")
        self.options = header.get("options")
        self.stream_segments = bool(header.get("stream_segments", False))
        limits = header.get("limits") or {}
        self.budget_ms = _positive(limits.get("fallback_budget_ms"))
        self.deadline_ms = _positive(limits.get("deadline_ms"))
        self.pcm = pcm
        self.cancelled = False  # set from the reader thread; read between segments
        self.lock = threading.Lock()
        self.live_temperatures = None  # the running pass's temperature list
        self.fallback_capped = False
        self.started = None

    def cancel(self):
        """From the reader thread: stop the fallback of the window in flight, then stop."""
        with self.lock:
            self.cancelled = True
            self._shorten()

    def spend_budget(self):
        """From the budget timer: no more fallback for this job."""
        with self.lock:
            if self._shorten():
                self.fallback_capped = True
            self.budget_ms = 0

    def _shorten(self):
        temps = self.live_temperatures
        if temps is not None and len(temps) > 1:
            del temps[1:]  # in place: the engine's loop iterates over this very list
            return True
        return False

    def elapsed_ms(self):
        return (time.monotonic() - self.started) * 1000.0 if self.started else 0.0


def _positive(value):
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _clip(t, limit):
    return min(max(0.0, float(t)), limit)


def _segment_dict(seg, limit) -> dict:
    """faster-whisper's Segment with every time clipped to [0, audio duration]."""
    words = None
    if seg.words is not None:
        words = [
            {"start": _clip(w.start, limit), "end": _clip(w.end, limit), "word": w.word, "probability": w.probability}
            for w in seg.words
        ]
    start, end = _clip(seg.start, limit), _clip(seg.end, limit)
    return {
        "id": seg.id,
        "seek": seg.seek,
        "start": start,
        "end": max(start, end),
        "text": seg.text,
        "tokens": [int(t) for t in seg.tokens],
        "temperature": seg.temperature,
        "avg_logprob": seg.avg_logprob,
        "compression_ratio": seg.compression_ratio,
        "no_speech_prob": seg.no_speech_prob,
        "words": words,
    }


class Pass:
    """One transcribe() call and the iteration of its segments."""

    def __init__(self, job, phase, schedule):
        self.job = job
        self.phase = phase
        self.schedule = list(schedule)  # the full list, to count decodes per window
        self.segments = []
        self.windows = {}  # seek -> index of the temperature kept
        self.truncated = False

    def run(self, runner, audio, kwargs, limit_s, send):
        kwargs = dict(kwargs)
        if isinstance(kwargs.get("vad_parameters"), dict):
            kwargs["vad_parameters"] = dict(kwargs["vad_parameters"])  # the batched pipeline pops keys
        try:
            segments, info = runner.transcribe(audio, **kwargs)
        except Exception as exc:  # noqa: BLE001 - mapped to a stable code
            raise classify_transcribe_error(exc, before_first_segment=True) from None
        job = self.job
        with job.lock:
            job.live_temperatures = engine_api.temperatures(info)
            if job.cancelled:
                job._shorten()
            elif job.budget_ms == 0 and job._shorten():
                job.fallback_capped = True
        self.info = info
        iterator = iter(segments)
        try:
            while True:
                if job.cancelled:
                    raise Cancelled()
                if job.deadline_ms is not None and job.elapsed_ms() > job.deadline_ms:
                    self.truncated = True
                    break
                try:
                    seg = next(iterator)
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001
                    raise classify_transcribe_error(exc, before_first_segment=not self.segments) from None
                item = _segment_dict(seg, limit_s)
                self.segments.append(item)
                if seg.temperature in self.schedule:
                    self.windows[seg.seek] = self.schedule.index(seg.temperature)
                else:
                    self.windows.setdefault(seg.seek, 0)
                if job.stream_segments:
                    send({"type": "segment", "id": job.id, "phase": self.phase, "segment": item})
                send(
                    {
                        "type": "progress",
                        "id": job.id,
                        "phase": self.phase,
                        "done_s": min(item["end"], limit_s),
                        "total_s": limit_s,
                    }
                )
        finally:
            with job.lock:
                job.live_temperatures = None
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        return self

    @property
    def decodes(self):
        return sum(i + 1 for i in self.windows.values()) or (1 if self.segments else 0)


def _start_budget(job):
    if job.budget_ms is None:
        return None
    timer = threading.Timer(job.budget_ms / 1000.0, job.spend_budget)
    timer.daemon = True
    timer.start()
    return timer


def run_transcribe(job: Job, ctx) -> dict:
    if job.pcm is None or len(job.pcm) % 4:
        raise SidecarError("invalid_request", "transcribe needs pcm_bytes > 0, a multiple of 4 (float32 samples)")
    opts = options.resolve(job.options)
    # Zero-copy view of the frame; float32 little-endian is the wire format.
    audio = np.frombuffer(job.pcm, dtype="<f4")
    if audio.dtype != np.float32:
        audio = audio.astype(np.float32)
    if not np.isfinite(audio).all():
        raise SidecarError("invalid_input", "PCM contains NaN or infinite samples")
    # Times are clipped to the audio, rounded down to the millisecond (never past it).
    limit_s = math.floor(audio.shape[0] / SAMPLE_RATE * 1000.0) / 1000.0
    model, load_ms = ctx.cache.acquire(opts["model"], ctx.allow_download)
    timer = None
    try:
        vocabulary = engine_api.vocabulary_size(model, opts["model"])
        options.check_suppress_tokens(opts["suppress_tokens"], vocabulary, opts["model"])
        batched = opts["batch_size"] > 1
        runner = ctx.fw.BatchedInferencePipeline(model) if batched else model
        kwargs = options.transcribe_kwargs(opts, audio.shape[0])
        schedule = list(kwargs["temperature"])
        job.started = time.monotonic()
        timer = _start_budget(job)
        first = Pass(job, "transcribe", schedule).run(runner, audio, kwargs, limit_s, ctx.send)
        transcribe_ms = int(job.elapsed_ms())
        translation = translation_segments = None
        translate_ms = 0
        second = None
        if opts["translate"] and not first.truncated:
            started = time.monotonic()
            # Reuse the known language: no second detection pass.
            tkwargs = dict(
                kwargs, task="translate", language=opts["language"] or first.info.language, temperature=list(schedule)
            )
            second = Pass(job, "translate", schedule).run(runner, audio, tkwargs, limit_s, ctx.send)
            translation_segments = second.segments
            translation = RENDER[opts["translation"]](translation_segments)
            translate_ms = int((time.monotonic() - started) * 1000)
    finally:
        if timer is not None:
            timer.cancel()
        del model
        ctx.cache.release(opts["model"])
    segs = first.segments
    info = first.info
    texts = render_all(segs)
    words = None
    if opts["word_timestamps"]:
        words = [w for s in segs for w in (s["words"] or [])]
    passes = [p for p in (first, second) if p is not None]
    truncated = any(p.truncated for p in passes) or (opts["translate"] and second is None)
    return dict(
        texts,
        segments=segs,
        transcription=texts[opts["transcription"]],
        detected_language=info.language,
        language_probability=info.language_probability,
        duration=info.duration,
        duration_after_vad=info.duration_after_vad,
        translation=translation,
        translation_segments=translation_segments,
        word_timestamps=words,
        model=opts["model"],
        device=ctx.device,
        compute_type=ctx.compute_type,
        batched=batched,
        audio_s=audio.shape[0] / SAMPLE_RATE,
        model_cached=load_ms is None,
        vocabulary_size=vocabulary,
        timing_ms={"load": load_ms or 0, "transcribe": transcribe_ms, "translate": translate_ms},
        compute={
            "engine_ms": int(job.elapsed_ms()),
            "windows": sum(len(p.windows) for p in passes),
            "decodes": sum(p.decodes for p in passes),
            "fallback_capped": job.fallback_capped,
            "truncated": bool(truncated),
            "transcribed_s": max([s["end"] for s in segs], default=0.0) if truncated else limit_s,
        },
    )
