"""TEST DOUBLE of faster_whisper.transcribe (1.2.1): the public names, signatures, defaults and
dataclasses of the real module (checked against test/doubles/faster-whisper-1.2.1.record.json),
its argument checks (same exception classes, raised at the same point: inside transcribe() or
lazily at the first window), and its delivery: segments come per 30 s window, each window's whole
cost paid before its first segment, and the last segment may end past the audio. A deterministic
fake transcript stands in for the model. See faster_whisper/_fake.py for the knobs.
"""

import contextlib
import functools
import hashlib
import inspect
import math
import os
import time
import zlib
from dataclasses import asdict, dataclass
from typing import BinaryIO, Iterable, List, Optional, Tuple, Union
from warnings import warn

import numpy as np

from faster_whisper import _fake
from faster_whisper.audio import decode_audio
from faster_whisper.tokenizer import _LANGUAGE_CODES, Tokenizer
from faster_whisper.utils import download_model, format_timestamp, get_logger
from faster_whisper.vad import VadOptions, get_speech_timestamps

SAMPLING_RATE = 16000
WINDOW_S = 30.0
# The largest timestamp token is <|30.00|>; measured segment ends stop at 29.98 s into a window.
WINDOW_END_S = 29.98
MAX_LENGTH = 448


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float

    def _asdict(self):
        warn("Word._asdict() method is deprecated, use dataclasses.asdict(Word) instead", DeprecationWarning, 2)
        return asdict(self)


@dataclass
class Segment:
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: List[int]
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float
    words: Optional[List[Word]]
    temperature: Optional[float]

    def _asdict(self):
        warn("Segment._asdict() method is deprecated, use dataclasses.asdict(Segment) instead", DeprecationWarning, 2)
        return asdict(self)


@dataclass
class TranscriptionOptions:
    beam_size: int
    best_of: int
    patience: float
    length_penalty: float
    repetition_penalty: float
    no_repeat_ngram_size: int
    log_prob_threshold: Optional[float]
    no_speech_threshold: Optional[float]
    compression_ratio_threshold: Optional[float]
    condition_on_previous_text: bool
    prompt_reset_on_temperature: float
    temperatures: List[float]
    initial_prompt: Optional[Union[str, Iterable[int]]]
    prefix: Optional[str]
    suppress_blank: bool
    suppress_tokens: Optional[List[int]]
    without_timestamps: bool
    max_initial_timestamp: float
    word_timestamps: bool
    prepend_punctuations: str
    append_punctuations: str
    multilingual: bool
    max_new_tokens: Optional[int]
    clip_timestamps: Union[str, List[float]]
    hallucination_silence_threshold: Optional[float]
    hotwords: Optional[str]


@dataclass
class TranscriptionInfo:
    language: str
    language_probability: float
    duration: float
    duration_after_vad: float
    all_language_probs: Optional[List[Tuple[str, float]]]
    transcription_options: TranscriptionOptions
    vad_options: VadOptions


def _recorded(api):
    """Remembers which keywords the caller passed (for FAKE_FW_CALL_LOG). Unknown keywords
    still raise Python's own TypeError from the wrapped function."""

    def decorate(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(self, *args, **kwargs):
            try:
                bound = sig.bind(self, *args, **kwargs)
            except TypeError:
                return fn(self, *args, **kwargs)  # raises the interpreter's TypeError
            explicit = {k: v for k, v in bound.arguments.items() if k not in ("self", "audio")}
            bound.apply_defaults()
            effective = {k: v for k, v in bound.arguments.items() if k not in ("self", "audio")}
            self._fake_call = {"api": api, "kwargs": explicit, "effective": effective}
            return fn(self, *args, **kwargs)

        return wrapper

    return decorate


def _as_array(audio):
    if not isinstance(audio, np.ndarray):
        audio = decode_audio(audio, sampling_rate=SAMPLING_RATE)
    expected = _fake.env("FAKE_FW_EXPECT_SAMPLES")
    if expected is not None and int(expected) != audio.shape[0]:
        raise ValueError("TEST DOUBLE: expected %s samples, got %d" % (expected, audio.shape[0]))
    return audio


def _compression_ratio(text):
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _suppressed_tokens(tokenizer, suppress_tokens):
    """What 1.2.1 does with suppress_tokens (only called when the value is truthy): -1 expands
    to the non-speech set and drops the other negative ids; otherwise it must be a list."""
    if -1 in suppress_tokens:
        suppress_tokens = [t for t in suppress_tokens if t >= 0]
        suppress_tokens.extend(tokenizer.non_speech_tokens)
    else:
        assert isinstance(suppress_tokens, list), "suppress_tokens must be a list"
    suppress_tokens.extend(tokenizer.special_tokens)
    return tuple(sorted(set(suppress_tokens)))


def _slot_texts(n, duration, task):
    """n segment texts for the whole transcript (fewer when the text has fewer words)."""
    if task == "translate":
        fixed = _fake.env("FAKE_FW_TRANSLATION_TEXT")
        if fixed is None:
            return [" English translation of segment %d of %d." % (i + 1, n) for i in range(n)]
    else:
        fixed = _fake.env("FAKE_FW_TEXT")
        if fixed is None:
            return [" Segment %d of %d, %.2f seconds of audio." % (i + 1, n, duration) for i in range(n)]
    words = fixed.split()
    if not words:
        return []
    n = min(n, len(words))
    per = int(math.ceil(len(words) / n))
    return [" " + " ".join(words[i * per : (i + 1) * per]) for i in range(n) if words[i * per : (i + 1) * per]]


def _passing_decode():
    """Index of the first decode that passes the thresholds (None: none does)."""
    mode = _fake.env("FAKE_FW_FALLBACK", "none")
    if mode == "none":
        return 0
    if mode == "all":
        return None
    return int(mode)


class _Plan:
    """The windows (or batched chunks) of one call: (offset, length, seek) in the decoder's
    time axis, and how to map that axis back to the original audio (VAD)."""

    def __init__(self, spans, content_s, to_original, silent):
        self.spans = [] if silent else spans
        self.content_s = content_s
        self.to_original = to_original


class _Run:
    """The lazy generator shared by both APIs. It reads options.temperatures at every window,
    as generate_with_fallback does, so the caller may change it between windows."""

    def __init__(self, model, options, plan, task, duration, batch_size=1, fallback=True):
        self.model = model
        self.options = options
        self.plan = plan
        self.task = task
        self.duration = duration
        self.batch_size = batch_size
        self.fallback = fallback

    def _prompt_length(self):
        o = self.options
        n = 3 + (1 if o.without_timestamps else 0)
        if o.hotwords:
            n += 1 + min(len(o.hotwords.split()), MAX_LENGTH // 2 - 1)
        if isinstance(o.initial_prompt, str) and o.initial_prompt.strip():
            n += 1 + min(len(o.initial_prompt.split()), MAX_LENGTH // 2 - 1)
        return n

    def _first_decode(self):
        """Checks made by the first generate call: max_length, then pybind11's conversion."""
        o = self.options
        if o.max_new_tokens is not None and self._prompt_length() + o.max_new_tokens > MAX_LENGTH:
            raise ValueError(
                "The length of the prompt is %d, and the `max_new_tokens` %d. Thus, the combined length of the "
                "prompt and `max_new_tokens` is: %d. This exceeds the `max_length` of the Whisper model: %d."
                % (self._prompt_length(), o.max_new_tokens, self._prompt_length() + o.max_new_tokens, MAX_LENGTH)
            )
        return self.model.model.generate_check(o.suppress_tokens)

    def segments(self):
        if "empty" in _fake.faults():
            return
        seg_s = float(_fake.env("FAKE_FW_SEGMENT_S", "5"))
        slots = [max(1, int(math.ceil(length / seg_s - 1e-9))) for _, length, _ in self.plan.spans]
        texts = _slot_texts(sum(slots), self.duration, self.task)
        per_span, k = [], 0
        for n in slots:
            per_span.append(texts[k : k + n])
            k += n
        ms_per_s = float(_fake.env("FAKE_FW_MS_PER_AUDIO_S", "0"))
        word_factor = float(_fake.env("FAKE_FW_WORD_TS_FACTOR", "1")) if self.options.word_timestamps else 1.0
        overrun = _fake.env("FAKE_FW_END_OVERRUN", "window") != "none"
        garbage = False
        seg_id = 0
        step = self.batch_size
        for b in range(0, len(self.plan.spans), step):
            _fake.encoder_pass(self.model.model.device)  # the encoder runs for every window
            _fake.raise_if_asked("first_window" if b == 0 else "later")
            if b == 0:
                _fake.hang_if_asked()
                garbage = self._first_decode()
            batch = self.plan.spans[b : b + step]
            decode_s = sum(length for _, length, _ in batch) * ms_per_s * word_factor / 1000.0
            temperature, fell_back = self._decode_window(decode_s)
            for j, (offset, length, seek) in enumerate(batch):
                window_texts = per_span[b + j]
                final = b + j == len(self.plan.spans) - 1
                for i, text in enumerate(window_texts):
                    seg_id += 1
                    s0 = offset + i * length / len(window_texts)
                    s1 = offset + (i + 1) * length / len(window_texts)
                    if final and i == len(window_texts) - 1 and overrun and length < WINDOW_S:
                        s1 = offset + WINDOW_END_S
                    yield self._segment(seg_id, seek, s0, s1, text, temperature, fell_back, garbage)

    def _decode_window(self, decode_s):
        """The window's decodes, all before its first segment: like generate_with_fallback, a loop
        over the live options.temperatures list (shortened by someone else, it ends early); when
        no decode passes, the last temperature tried is reported. The batched pipeline decodes
        once at its first temperature."""
        temps = self.options.temperatures
        if not self.fallback:
            if decode_s > 0:
                time.sleep(decode_s)
            return temps[0], False
        passing = _passing_decode()
        tried = None
        for index, temperature in enumerate(temps):
            _fake.append_log("FAKE_FW_DECODE_LOG", {"event": "decode", "temperature": temperature, "index": index})
            if decode_s > 0:
                time.sleep(decode_s)
            tried = temperature
            if passing is not None and index >= passing:
                return temperature, index > 0
        return tried, True

    def _segment(self, seg_id, seek, s0, s1, text, temperature, fell_back, garbage):
        to_orig = self.plan.to_original
        words = None
        if self.options.word_timestamps:
            parts = text.split()
            w = (s1 - s0) / max(1, len(parts))
            words = [
                Word(
                    start=round(to_orig(s0 + j * w), 2),
                    end=round(to_orig(s0 + (j + 1) * w), 2),
                    word=" " + p,
                    probability=0.9,
                )
                for j, p in enumerate(parts)
            ]
        start, end = round(to_orig(s0), 3), round(to_orig(s1), 3)
        if words:
            start, end = words[0].start, words[-1].end
        avg = float("nan") if garbage else (-1.5 if fell_back else -0.25)
        return Segment(
            id=seg_id,
            seek=seek,
            start=start,
            end=end,
            text=text,
            tokens=[50365 + (sum(map(ord, w)) % 1000) for w in text.split()],
            avg_logprob=avg,
            compression_ratio=_compression_ratio(text),
            no_speech_prob=0.01,
            words=words,
            temperature=temperature,
        )


def _silent(audio):
    """Silence (or nothing) decodes to no segment: the no-speech check skips every window."""
    return audio.shape[0] == 0 or float(np.max(np.abs(audio))) < 1e-4


def _windows(clips_s, content_s):
    spans = []
    for start, end in clips_s:
        end = min(end, content_s)
        t = start
        while t < end - 1e-9:
            length = min(WINDOW_S, end - t)
            spans.append((t, length, int(round(t * 100))))
            t += length
    return spans


def _offset_map(chunks):
    """Decoder time -> original time after VAD removed the gaps between chunks (samples)."""
    silence, prev_end, ends = [], 0, []
    gap = 0
    for c in chunks:
        gap += c["start"] - prev_end
        prev_end = c["end"]
        ends.append((c["end"] - gap) / SAMPLING_RATE)
        silence.append(gap / SAMPLING_RATE)
    if not chunks:
        return lambda t: t

    def to_original(t):
        for end, before in zip(ends, silence):
            if t <= end:
                return t + before
        return t + silence[-1]

    return to_original


class BatchedInferencePipeline:
    def __init__(
        self,
        model,
    ):
        self.model: WhisperModel = model
        self.last_speech_timestamp = 0.0

    @_recorded("BatchedInferencePipeline.transcribe")
    def transcribe(
        self,
        audio: Union[str, BinaryIO, np.ndarray],
        language: Optional[str] = None,
        task: str = "transcribe",
        log_progress: bool = False,
        beam_size: int = 5,
        best_of: int = 5,
        patience: float = 1,
        length_penalty: float = 1,
        repetition_penalty: float = 1,
        no_repeat_ngram_size: int = 0,
        temperature: Union[float, List[float], Tuple[float, ...]] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        compression_ratio_threshold: Optional[float] = 2.4,
        log_prob_threshold: Optional[float] = -1.0,
        no_speech_threshold: Optional[float] = 0.6,
        condition_on_previous_text: bool = True,
        prompt_reset_on_temperature: float = 0.5,
        initial_prompt: Optional[Union[str, Iterable[int]]] = None,
        prefix: Optional[str] = None,
        suppress_blank: bool = True,
        suppress_tokens: Optional[List[int]] = [-1],
        without_timestamps: bool = True,
        max_initial_timestamp: float = 1.0,
        word_timestamps: bool = False,
        prepend_punctuations: str = "\"'“¿([{-",
        append_punctuations: str = "\"'.。,，!！?？:：”)]}、",
        multilingual: bool = False,
        vad_filter: bool = True,
        vad_parameters: Optional[Union[dict, VadOptions]] = None,
        max_new_tokens: Optional[int] = None,
        chunk_length: Optional[int] = None,
        clip_timestamps: Optional[List[dict]] = None,
        hallucination_silence_threshold: Optional[float] = None,
        batch_size: int = 8,
        hotwords: Optional[str] = None,
        language_detection_threshold: Optional[float] = 0.5,
        language_detection_segments: int = 1,
    ) -> Tuple[Iterable[Segment], TranscriptionInfo]:
        call, self._fake_call = getattr(self, "_fake_call", None), None
        model = self.model
        if multilingual and not model.model.is_multilingual:
            multilingual = False
        audio = _as_array(audio)
        duration = audio.shape[0] / SAMPLING_RATE
        model._log_call(call, audio)
        format_timestamp(duration)
        chunk_length = chunk_length or 30
        restore = None
        if not clip_timestamps:
            if vad_filter:
                if vad_parameters is None:
                    vad_parameters = VadOptions(max_speech_duration_s=chunk_length, min_silence_duration_ms=160)
                elif isinstance(vad_parameters, dict):
                    vad_parameters.pop("max_speech_duration_s", None)
                    vad_parameters = VadOptions(**vad_parameters, max_speech_duration_s=chunk_length)
                clip_timestamps = get_speech_timestamps(audio, vad_parameters)
            elif duration < chunk_length:
                clip_timestamps = [{"start": 0, "end": audio.shape[0]}]
            else:
                raise RuntimeError("No clip timestamps found. Set 'vad_filter' to True or provide 'clip_timestamps'.")
            # collect_chunks: speech regions merged into chunks of at most chunk_length.
            spans, total = [], 0.0
            for c in clip_timestamps:
                length = (c["end"] - c["start"]) / SAMPLING_RATE
                if spans and spans[-1][1] + length <= chunk_length:
                    spans[-1] = (spans[-1][0], spans[-1][1] + length)
                else:
                    spans.append((total, length))
                total += length
            spans = [(o, ln, int(o * 100)) for o, ln in spans]
            restore = _offset_map(clip_timestamps) if vad_filter else None
        else:
            clip_timestamps = [{k: int(v * SAMPLING_RATE) for k, v in seg.items()} for seg in clip_timestamps]
            spans = []
            for clip in clip_timestamps:
                offset = clip["start"] / SAMPLING_RATE
                spans.append((offset, min(WINDOW_S, (clip["end"] - clip["start"]) / SAMPLING_RATE), int(offset * 100)))
        duration_after_vad = sum(seg["end"] - seg["start"] for seg in clip_timestamps) / SAMPLING_RATE
        format_timestamp(duration - duration_after_vad)  # "VAD filter removed %s of audio"
        spans = [s for s in spans if s[1] > 0]
        language, language_probability, probs = model._language(language, None)
        tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task=task, language=language)
        options = TranscriptionOptions(
            beam_size=beam_size,
            best_of=best_of,
            patience=patience,
            length_penalty=length_penalty,
            repetition_penalty=repetition_penalty,
            no_repeat_ngram_size=no_repeat_ngram_size,
            log_prob_threshold=log_prob_threshold,
            no_speech_threshold=no_speech_threshold,
            compression_ratio_threshold=compression_ratio_threshold,
            temperatures=temperature[:1] if isinstance(temperature, (list, tuple)) else [temperature],
            initial_prompt=initial_prompt,
            prefix=prefix,
            suppress_blank=suppress_blank,
            suppress_tokens=_suppressed_tokens(tokenizer, suppress_tokens) if suppress_tokens else suppress_tokens,
            prepend_punctuations=prepend_punctuations,
            append_punctuations=append_punctuations,
            max_new_tokens=max_new_tokens,
            hotwords=hotwords,
            word_timestamps=word_timestamps,
            hallucination_silence_threshold=None,
            condition_on_previous_text=False,
            clip_timestamps=clip_timestamps,
            prompt_reset_on_temperature=0.5,
            multilingual=multilingual,
            without_timestamps=without_timestamps,
            max_initial_timestamp=0.0,
        )
        info = TranscriptionInfo(
            language=language,
            language_probability=language_probability,
            duration=duration,
            duration_after_vad=duration_after_vad,
            transcription_options=options,
            vad_options=vad_parameters,
            all_language_probs=probs,
        )
        plan = _Plan(spans, duration_after_vad, restore or (lambda t: t), _silent(audio))
        run = _Run(model, options, plan, task, duration, batch_size=max(1, int(batch_size)), fallback=False)
        return run.segments(), info


class WhisperModel:
    def __init__(
        self,
        model_size_or_path: str,
        device: str = "auto",
        device_index: Union[int, List[int]] = 0,
        compute_type: str = "default",
        cpu_threads: int = 0,
        num_workers: int = 1,
        download_root: Optional[str] = None,
        local_files_only: bool = False,
        files: dict = None,
        revision: Optional[str] = None,
        use_auth_token: Optional[Union[str, bool]] = None,
        **model_kwargs,
    ):
        self.logger = get_logger()
        self._ctor = _fake.json_safe(
            {
                "model_size_or_path": model_size_or_path,
                "device": device,
                "device_index": device_index,
                "compute_type": compute_type,
                "cpu_threads": cpu_threads,
                "num_workers": num_workers,
                "download_root": download_root,
                "local_files_only": local_files_only,
                "files": sorted(files) if files else None,
                "revision": revision,
                "use_auth_token": None if use_auth_token is None else "[set]",
                "model_kwargs": model_kwargs,
            }
        )
        self._fake_call = None
        self._released = False
        if "load_error" in _fake.faults():
            from huggingface_hub import LocalEntryNotFoundError  # the double's hub, imported when needed

            raise LocalEntryNotFoundError(
                "TEST DOUBLE load_error: cannot find the model '%s' on the local disk and "
                "outgoing traffic has been disabled." % model_size_or_path
            )
        if files or os.path.isdir(model_size_or_path):
            model_path = model_size_or_path
        else:
            model_path = download_model(
                model_size_or_path,
                local_files_only=local_files_only,
                cache_dir=download_root,
                revision=revision,
                use_auth_token=use_auth_token,
            )
        self.model = _fake.FakeCT2Whisper(
            model_path,
            device=device,
            device_index=device_index,
            compute_type=compute_type,
            intra_threads=cpu_threads,
            inter_threads=num_workers,
            files=files,
            **model_kwargs,
        )
        self._model_path = model_path
        self.hf_tokenizer = _fake.FakeHFTokenizer.for_model(model_path, self.model.is_multilingual)
        self.feat_kwargs = {"feature_size": self.model.n_mels}
        self.feature_extractor = _FeatureExtractor(self.model.n_mels)
        self.input_stride = 2
        self.num_samples_per_token = self.feature_extractor.hop_length * self.input_stride
        self.frames_per_second = self.feature_extractor.sampling_rate // self.feature_extractor.hop_length
        self.tokens_per_second = self.feature_extractor.sampling_rate // self.num_samples_per_token
        self.time_precision = 0.02
        self.max_length = MAX_LENGTH
        _fake.append_log(
            "FAKE_FW_LOAD_LOG",
            {
                "event": "load",
                "model": self._ctor,
                "device": self.model.device,
                "compute_type": self.model.compute_type,
            },
        )

    def __del__(self):
        if getattr(self, "model", None) is not None and not self._released:
            self._released = True
            with contextlib.suppress(Exception):  # __del__ must not raise (interpreter shutdown)
                _fake.append_log("FAKE_FW_LOAD_LOG", {"event": "release", "model": self._ctor})

    @property
    def supported_languages(self) -> List[str]:
        """The languages supported by the model."""
        return list(_LANGUAGE_CODES) if self.model.is_multilingual else ["en"]

    @_recorded("WhisperModel.transcribe")
    def transcribe(
        self,
        audio: Union[str, BinaryIO, np.ndarray],
        language: Optional[str] = None,
        task: str = "transcribe",
        log_progress: bool = False,
        beam_size: int = 5,
        best_of: int = 5,
        patience: float = 1,
        length_penalty: float = 1,
        repetition_penalty: float = 1,
        no_repeat_ngram_size: int = 0,
        temperature: Union[float, List[float], Tuple[float, ...]] = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
        compression_ratio_threshold: Optional[float] = 2.4,
        log_prob_threshold: Optional[float] = -1.0,
        no_speech_threshold: Optional[float] = 0.6,
        condition_on_previous_text: bool = True,
        prompt_reset_on_temperature: float = 0.5,
        initial_prompt: Optional[Union[str, Iterable[int]]] = None,
        prefix: Optional[str] = None,
        suppress_blank: bool = True,
        suppress_tokens: Optional[List[int]] = [-1],
        without_timestamps: bool = False,
        max_initial_timestamp: float = 1.0,
        word_timestamps: bool = False,
        prepend_punctuations: str = "\"'“¿([{-",
        append_punctuations: str = "\"'.。,，!！?？:：”)]}、",
        multilingual: bool = False,
        vad_filter: bool = False,
        vad_parameters: Optional[Union[dict, VadOptions]] = None,
        max_new_tokens: Optional[int] = None,
        chunk_length: Optional[int] = None,
        clip_timestamps: Union[str, List[float]] = "0",
        hallucination_silence_threshold: Optional[float] = None,
        hotwords: Optional[str] = None,
        language_detection_threshold: Optional[float] = 0.5,
        language_detection_segments: int = 1,
    ) -> Tuple[Iterable[Segment], TranscriptionInfo]:
        call, self._fake_call = self._fake_call, None
        if multilingual and not self.model.is_multilingual:
            multilingual = False
        audio = _as_array(audio)
        duration = audio.shape[0] / SAMPLING_RATE
        self._log_call(call, audio)
        format_timestamp(duration)
        duration_after_vad = duration
        chunks = None
        if vad_filter and clip_timestamps == "0":
            if vad_parameters is None:
                vad_parameters = VadOptions()
            elif isinstance(vad_parameters, dict):
                vad_parameters = VadOptions(**vad_parameters)
            chunks = get_speech_timestamps(audio, vad_parameters)
            duration_after_vad = sum(c["end"] - c["start"] for c in chunks) / SAMPLING_RATE
            format_timestamp(duration - duration_after_vad)
        first_clip = None
        if language is None and self.model.is_multilingual:
            first_clip = (
                float(clip_timestamps.split(",")[0]) if isinstance(clip_timestamps, str) else clip_timestamps[0]
            )
        language, language_probability, probs = self._language(language, first_clip)
        tokenizer = Tokenizer(self.hf_tokenizer, self.model.is_multilingual, task=task, language=language)
        options = TranscriptionOptions(
            beam_size=beam_size,
            best_of=best_of,
            patience=patience,
            length_penalty=length_penalty,
            repetition_penalty=repetition_penalty,
            no_repeat_ngram_size=no_repeat_ngram_size,
            log_prob_threshold=log_prob_threshold,
            no_speech_threshold=no_speech_threshold,
            compression_ratio_threshold=compression_ratio_threshold,
            condition_on_previous_text=condition_on_previous_text,
            prompt_reset_on_temperature=prompt_reset_on_temperature,
            temperatures=temperature if isinstance(temperature, (list, tuple)) else [temperature],
            initial_prompt=initial_prompt,
            prefix=prefix,
            suppress_blank=suppress_blank,
            suppress_tokens=_suppressed_tokens(tokenizer, suppress_tokens) if suppress_tokens else suppress_tokens,
            without_timestamps=without_timestamps,
            max_initial_timestamp=max_initial_timestamp,
            word_timestamps=word_timestamps,
            prepend_punctuations=prepend_punctuations,
            append_punctuations=append_punctuations,
            multilingual=multilingual,
            max_new_tokens=max_new_tokens,
            clip_timestamps=clip_timestamps,
            hallucination_silence_threshold=hallucination_silence_threshold,
            hotwords=hotwords,
        )
        segments = self._segments(options, chunks, duration, duration_after_vad, task, _silent(audio))
        info = TranscriptionInfo(
            language=language,
            language_probability=language_probability,
            duration=duration,
            duration_after_vad=duration_after_vad,
            transcription_options=options,
            vad_options=vad_parameters,
            all_language_probs=probs,
        )
        return segments, info

    def _segments(self, options, chunks, duration, content_s, task, silent):
        # clip_timestamps is parsed when the generator starts, as in generate_segments.
        clips = options.clip_timestamps
        if isinstance(clips, str):
            clips = [float(ts) for ts in (clips.split(",") if clips else [])]
        points = list(clips) or [0.0]
        if len(points) % 2 == 1:
            points.append(content_s)
        plan = _Plan(
            _windows(list(zip(points[::2], points[1::2])), content_s),
            content_s,
            _offset_map(chunks) if chunks else (lambda t: t),
            silent or chunks == [],
        )
        yield from _Run(self, options, plan, task, duration).segments()

    def detect_language(
        self,
        audio: Optional[np.ndarray] = None,
        features: Optional[np.ndarray] = None,
        vad_filter: bool = False,
        vad_parameters: Union[dict, VadOptions] = None,
        language_detection_segments: int = 1,
        language_detection_threshold: float = 0.5,
    ) -> Tuple[str, float, List[Tuple[str, float]]]:
        assert audio is not None or features is not None, "Either `audio` or `features` must be provided."
        _fake.encoder_pass(self.model.device)
        language = _fake.env("FAKE_FW_LANGUAGE", "en")
        probability = float(_fake.env("FAKE_FW_LANGUAGE_PROB", "0.97"))
        return language, probability, [(language, probability)]

    # ----- double internals -------------------------------------------------------------

    def _language(self, language, first_clip):
        """(language, probability, all probabilities); detection runs the encoder now."""
        if language is None:
            if not self.model.is_multilingual:
                return "en", 1, None
            return self.detect_language(features=np.zeros((self.model.n_mels, 1), np.float32))
        if not self.model.is_multilingual and language != "en":
            self.logger.warning(
                "The current model is English-only but the language parameter is set to '%s'; "
                "using 'en' instead." % language
            )
            language = "en"
        return language, 1, None

    def _log_call(self, call, audio):
        self._log_call_record(call, audio)
        _fake.raise_if_asked("call")

    def _log_call_record(self, call, audio):
        _fake.append_log(
            "FAKE_FW_CALL_LOG",
            {
                "event": "transcribe",
                "api": call["api"] if call else None,
                "model": self._ctor,
                "device": self.model.device,
                "compute_type": self.model.compute_type,
                "kwargs": call["kwargs"] if call else None,
                "effective": call["effective"] if call else None,
                "audio_samples": int(audio.shape[0]),
                "audio_duration": audio.shape[0] / SAMPLING_RATE,
                "audio_dtype": str(audio.dtype),
                "audio_sha256": hashlib.sha256(np.ascontiguousarray(audio).tobytes()).hexdigest(),
            },
        )
        _fake.leak()


class _FeatureExtractor:
    """The attributes WhisperModel reads from faster_whisper.feature_extractor.FeatureExtractor."""

    def __init__(self, feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=30, n_fft=400):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.chunk_length = chunk_length
        self.n_samples = chunk_length * sampling_rate
        self.nb_max_frames = self.n_samples // hop_length
        self.time_per_frame = hop_length / sampling_rate
        self.sampling_rate = sampling_rate
