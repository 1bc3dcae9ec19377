"""TEST DOUBLE of faster_whisper.transcribe (1.2.1): same public names, constructor and
transcribe() keyword names and defaults; a deterministic fake transcript instead of a model.
See faster_whisper/_fake.py for the environment variables that drive it.
"""

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
from faster_whisper.utils import LocalEntryNotFoundError, download_model, format_timestamp, get_logger
from faster_whisper.vad import VadOptions

_LANGUAGE_CODES = (
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr "
    "ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa "
    "pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue"
).split()

SAMPLING_RATE = 16000


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float

    def _asdict(self):
        warn(
            "Word._asdict() method is deprecated, use dataclasses.asdict(Word) instead",
            DeprecationWarning,
            2,
        )
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
        warn(
            "Segment._asdict() method is deprecated, use dataclasses.asdict(Segment) instead",
            DeprecationWarning,
            2,
        )
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


def _validate_audio(audio):
    if not isinstance(audio, np.ndarray):
        audio = decode_audio(audio, sampling_rate=SAMPLING_RATE)
    if audio.dtype != np.float32:
        raise ValueError("TEST DOUBLE: audio must be float32, got %s" % audio.dtype)
    if audio.ndim != 1:
        raise ValueError("TEST DOUBLE: audio must be 1-D (mono), got shape %s" % (audio.shape,))
    expected = _fake.env("FAKE_FW_EXPECT_SAMPLES")
    if expected is not None and int(expected) != audio.shape[0]:
        raise ValueError(
            "TEST DOUBLE: expected %s samples, got %d" % (expected, audio.shape[0])
        )
    return audio


def _compression_ratio(text):
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _speech_span(audio, vad_filter):
    """(start_s, end_s) of the audible part; None when the clip is silent.
    A crude energy gate stands in for Silero VAD when vad_filter is on."""
    if audio.shape[0] == 0 or float(np.max(np.abs(audio))) < 1e-4:
        return None
    duration = audio.shape[0] / SAMPLING_RATE
    if not vad_filter:
        return (0.0, duration)
    loud = np.flatnonzero(np.abs(audio) >= 1e-3)
    if loud.size == 0:
        return None
    return (loud[0] / SAMPLING_RATE, (loud[-1] + 1) / SAMPLING_RATE)


def _segment_texts(n, duration, task):
    if task == "translate":
        fixed = _fake.env("FAKE_FW_TRANSLATION_TEXT")
        if fixed is None:
            return [" English translation of segment %d of %d." % (i + 1, n) for i in range(n)]
    else:
        fixed = _fake.env("FAKE_FW_TEXT")
        if fixed is None:
            return [
                " Segment %d of %d, %.2f seconds of audio." % (i + 1, n, duration)
                for i in range(n)
            ]
    words = fixed.split()
    if not words:
        return [""] * n
    n = min(n, len(words))
    per = int(math.ceil(len(words) / n))
    return [" " + " ".join(words[i * per:(i + 1) * per]) for i in range(n) if words[i * per:(i + 1) * per]]


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
        temperature: Union[float, List[float], Tuple[float, ...]] = [
            0.0,
            0.2,
            0.4,
            0.6,
            0.8,
            1.0,
        ],
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
        call, self._fake_call = self._fake_call, None
        audio = _validate_audio(audio)
        duration = audio.shape[0] / SAMPLING_RATE
        chunk_length = chunk_length or 30
        if not clip_timestamps and not vad_filter and duration >= chunk_length:
            # Same failure as the real batched pipeline.
            raise RuntimeError(
                "No clip timestamps found. "
                "Set 'vad_filter' to True or provide 'clip_timestamps'."
            )
        if vad_filter and not clip_timestamps:
            if vad_parameters is None:
                vad_parameters = VadOptions(max_speech_duration_s=chunk_length, min_silence_duration_ms=160)
            elif isinstance(vad_parameters, dict):
                vad_parameters = dict(vad_parameters)
                vad_parameters.pop("max_speech_duration_s", None)
                vad_parameters = VadOptions(**vad_parameters, max_speech_duration_s=chunk_length)
        temperatures = list(temperature[:1]) if isinstance(temperature, (list, tuple)) else [temperature]
        return self.model._fake_run(
            call, audio, language, task, multilingual, temperatures, word_timestamps,
            vad_filter and not clip_timestamps, vad_parameters, locals(),
        )


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
        self._ctor = _fake.json_safe({
            "model_size_or_path": model_size_or_path, "device": device,
            "device_index": device_index, "compute_type": compute_type,
            "cpu_threads": cpu_threads, "num_workers": num_workers,
            "download_root": download_root, "local_files_only": local_files_only,
            "files": sorted(files) if files else None, "revision": revision,
            "use_auth_token": None if use_auth_token is None else "[set]",
            "model_kwargs": model_kwargs,
        })
        self._fake_call = None
        self._released = False
        if "load_error" in _fake.faults():
            raise LocalEntryNotFoundError(
                "TEST DOUBLE load_error: cannot find the model '%s' on the local disk and "
                "outgoing traffic has been disabled." % model_size_or_path
            )
        if files:
            model_path = model_size_or_path
        elif os.path.isdir(model_size_or_path):
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
        self.model_path = model_path
        self.time_precision = 0.02
        self.max_length = 448
        _fake.append_log("FAKE_FW_LOAD_LOG", {
            "event": "load", "model": self._ctor, "device": self.model.device,
            "compute_type": self.model.compute_type,
        })

    def __del__(self):
        if getattr(self, "model", None) is not None and not self._released:
            self._released = True
            try:
                _fake.append_log("FAKE_FW_LOAD_LOG", {"event": "release", "model": self._ctor})
            except Exception:
                pass

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
        temperature: Union[float, List[float], Tuple[float, ...]] = [
            0.0,
            0.2,
            0.4,
            0.6,
            0.8,
            1.0,
        ],
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
        audio = _validate_audio(audio)
        if vad_filter:
            if vad_parameters is None:
                vad_parameters = VadOptions()
            elif isinstance(vad_parameters, dict):
                vad_parameters = VadOptions(**vad_parameters)  # TypeError on unknown keys, as real
        temperatures = list(temperature) if isinstance(temperature, (list, tuple)) else [temperature]
        return self._fake_run(
            call, audio, language, task, multilingual, temperatures, word_timestamps,
            vad_filter, vad_parameters, locals(),
        )

    # ----- double internals -------------------------------------------------------------

    def _fake_run(self, call, audio, language, task, multilingual, temperatures,
                  word_timestamps, vad_filter, vad_parameters, args):
        duration = audio.shape[0] / SAMPLING_RATE
        _fake.append_log("FAKE_FW_CALL_LOG", {
            "event": "transcribe", "api": call["api"] if call else None,
            "model": self._ctor, "device": self.model.device,
            "compute_type": self.model.compute_type,
            "kwargs": call["kwargs"] if call else None,
            "effective": call["effective"] if call else None,
            "audio_samples": int(audio.shape[0]), "audio_duration": duration,
            "audio_dtype": str(audio.dtype),
            "audio_sha256": hashlib.sha256(audio.tobytes()).hexdigest(),
        })
        _fake.leak()
        if task not in ("transcribe", "translate"):
            raise ValueError("'%s' is not a valid task (accepted tasks: transcribe, translate)" % task)
        if multilingual and not self.model.is_multilingual:
            multilingual = False
        encoded = False
        if language is None:
            if not self.model.is_multilingual:
                language, language_probability = "en", 1
            else:
                _fake.encoder_pass(self.model.device)  # language detection runs the encoder now
                encoded = True
                language = _fake.env("FAKE_FW_LANGUAGE", "en")
                language_probability = float(_fake.env("FAKE_FW_LANGUAGE_PROB", "0.97"))
        else:
            if language not in _LANGUAGE_CODES:
                raise ValueError(
                    "'%s' is not a valid language code (accepted language codes: %s)"
                    % (language, ", ".join(_LANGUAGE_CODES))
                )
            if not self.model.is_multilingual and language != "en":
                language = "en"
            language_probability = 1
        span = _speech_span(audio, vad_filter)
        duration_after_vad = 0.0 if span is None else (span[1] - span[0] if vad_filter else duration)
        options = TranscriptionOptions(
            beam_size=args["beam_size"], best_of=args["best_of"], patience=args["patience"],
            length_penalty=args["length_penalty"], repetition_penalty=args["repetition_penalty"],
            no_repeat_ngram_size=args["no_repeat_ngram_size"],
            log_prob_threshold=args["log_prob_threshold"],
            no_speech_threshold=args["no_speech_threshold"],
            compression_ratio_threshold=args["compression_ratio_threshold"],
            condition_on_previous_text=args["condition_on_previous_text"],
            prompt_reset_on_temperature=args["prompt_reset_on_temperature"],
            temperatures=temperatures, initial_prompt=args["initial_prompt"],
            prefix=args["prefix"], suppress_blank=args["suppress_blank"],
            suppress_tokens=args["suppress_tokens"],
            without_timestamps=args["without_timestamps"],
            max_initial_timestamp=args["max_initial_timestamp"],
            word_timestamps=word_timestamps,
            prepend_punctuations=args["prepend_punctuations"],
            append_punctuations=args["append_punctuations"], multilingual=multilingual,
            max_new_tokens=args["max_new_tokens"], clip_timestamps=args["clip_timestamps"],
            hallucination_silence_threshold=args["hallucination_silence_threshold"],
            hotwords=args["hotwords"],
        )
        info = TranscriptionInfo(
            language=language, language_probability=language_probability, duration=duration,
            duration_after_vad=duration_after_vad, all_language_probs=None,
            transcription_options=options, vad_options=vad_parameters,
        )
        segments = self._fake_segments(span, duration, task, temperatures[0], word_timestamps, encoded)
        return segments, info

    def _fake_segments(self, span, duration, task, temperature, word_timestamps, encoded):
        """Lazy, like the real generator: nothing is decoded until iteration."""
        if not encoded:
            _fake.encoder_pass(self.model.device)
        _fake.hang_if_asked()
        if span is None or "empty" in _fake.faults():
            return
        seg_s = float(_fake.env("FAKE_FW_SEGMENT_S", "5"))
        start, end = span
        n = max(1, int(math.ceil((end - start) / seg_s - 1e-9)))
        texts = _segment_texts(n, duration, task)
        n = len(texts)
        total_sleep_s = float(_fake.env("FAKE_FW_MS_PER_AUDIO_S", "0")) * duration / 1000.0
        step = (end - start) / n
        for i, text in enumerate(texts):
            if total_sleep_s > 0:
                time.sleep(total_sleep_s / n)
            s0 = start + i * step
            s1 = end if i == n - 1 else start + (i + 1) * step
            words = None
            if word_timestamps:
                parts = text.split()
                w_step = (s1 - s0) / max(1, len(parts))
                words = [
                    Word(start=round(s0 + j * w_step, 2), end=round(s0 + (j + 1) * w_step, 2),
                         word=" " + w, probability=0.9)
                    for j, w in enumerate(parts)
                ]
            tokens = [50365 + (sum(map(ord, w)) % 1000) for w in text.split()]
            yield Segment(
                id=i + 1, seek=int(round(s0 * 100)), start=round(s0, 3), end=round(s1, 3),
                text=text, tokens=tokens, avg_logprob=-0.25,
                compression_ratio=_compression_ratio(text), no_speech_prob=0.01,
                words=words, temperature=temperature,
            )
