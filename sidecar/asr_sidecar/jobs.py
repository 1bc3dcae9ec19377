"""One transcription request: options -> engine call(s) -> result dict.

The engine's segment generator is lazy, so progress, streamed segments and cancellation all
happen between two segments. A cancel cannot interrupt native code inside one segment; the
Node side kills the process if that takes too long.
"""

import time

import numpy as np

from . import SAMPLE_RATE, options
from .errors import Cancelled, SidecarError, classify_transcribe_error
from .formats import RENDER, render_all


class Job:
    def __init__(self, header: dict, pcm):
        self.id = header.get("id")
        self.options = header.get("options")
        self.stream_segments = bool(header.get("stream_segments", False))
        self.pcm = pcm
        self.cancelled = False  # set from the reader thread; read between segments


def _segment_dict(seg) -> dict:
    words = None
    if seg.words is not None:
        words = [{"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                 for w in seg.words]
    return {
        "id": seg.id, "seek": seg.seek, "start": seg.start, "end": seg.end, "text": seg.text,
        "tokens": [int(t) for t in seg.tokens], "temperature": seg.temperature,
        "avg_logprob": seg.avg_logprob, "compression_ratio": seg.compression_ratio,
        "no_speech_prob": seg.no_speech_prob, "words": words,
    }


def _start(runner, audio, kwargs):
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("vad_parameters"), dict):
        kwargs["vad_parameters"] = dict(kwargs["vad_parameters"])  # the batched pipeline pops keys
    try:
        return runner.transcribe(audio, **kwargs)
    except Exception as exc:  # noqa: BLE001 - mapped to a stable code
        raise classify_transcribe_error(exc, before_iteration=True) from None


def _collect(job: Job, segments, info, phase: str, send) -> list:
    out = []
    iterator = iter(segments)
    try:
        while True:
            if job.cancelled:
                raise Cancelled()
            try:
                seg = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # noqa: BLE001
                raise classify_transcribe_error(exc, before_iteration=False) from None
            item = _segment_dict(seg)
            out.append(item)
            if job.stream_segments:
                send({"type": "segment", "id": job.id, "phase": phase, "segment": item})
            send({"type": "progress", "id": job.id, "phase": phase,
                  "done_s": min(float(seg.end), float(info.duration)), "total_s": float(info.duration)})
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    return out


def run_transcribe(job: Job, ctx) -> dict:
    if job.pcm is None or len(job.pcm) % 4:
        raise SidecarError("invalid_request", "transcribe needs pcm_bytes > 0, a multiple of 4 (float32 samples)")
    opts = options.resolve(job.options)
    # Zero-copy view of the frame; float32 little-endian is the wire format.
    audio = np.frombuffer(job.pcm, dtype="<f4")
    if audio.dtype != np.float32:
        audio = audio.astype(np.float32)
    if not np.isfinite(audio).all():
        raise SidecarError("invalid_request", "PCM contains NaN or infinite samples")
    model, load_ms = ctx.cache.acquire(opts["model"], ctx.allow_download)
    try:
        batched = opts["batch_size"] > 1
        runner = ctx.fw.BatchedInferencePipeline(model) if batched else model
        kwargs = options.transcribe_kwargs(opts, audio.shape[0])
        started = time.monotonic()
        segments, info = _start(runner, audio, kwargs)
        segs = _collect(job, segments, info, "transcribe", ctx.send)
        transcribe_ms = int((time.monotonic() - started) * 1000)
        translation = translation_segments = None
        translate_ms = 0
        if opts["translate"]:
            started = time.monotonic()
            # Reuse the known language: no second detection pass.
            tkwargs = dict(kwargs, task="translate", language=opts["language"] or info.language)
            tsegments, tinfo = _start(runner, audio, tkwargs)
            translation_segments = _collect(job, tsegments, tinfo, "translate", ctx.send)
            translation = RENDER[opts["translation"]](translation_segments)
            translate_ms = int((time.monotonic() - started) * 1000)
    finally:
        del model
        ctx.cache.release(opts["model"])
    texts = render_all(segs)
    words = None
    if opts["word_timestamps"]:
        words = [w for s in segs for w in (s["words"] or [])]
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
        timing_ms={"load": load_ms or 0, "transcribe": transcribe_ms, "translate": translate_ms},
    )
