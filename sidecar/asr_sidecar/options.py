"""Job options (worker-faster_whisper's input keys, plus hotwords, vad_parameters, multilingual,
batch_size) and their translation into faster-whisper 1.2.1 keyword arguments.

Defaults are faster-whisper 1.2.1's where worker-faster_whisper deviated from them
(length_penalty 1, suppress_tokens honoured). The Node side validates the same keys with zod
(handler/asr/options.ts) and sends them resolved; these checks guard direct use. Every problem
here is the job's: invalid_input.
"""

from . import SAMPLE_RATE
from .errors import SidecarError
from .formats import FORMATS

DEFAULTS = {
    "model": None,
    "transcription": "plain_text",
    "translate": False,
    "translation": "plain_text",
    "language": None,
    "temperature": 0.0,
    "best_of": 5,
    "beam_size": 5,
    "patience": 1.0,
    "length_penalty": 1.0,
    "suppress_tokens": "-1",
    "initial_prompt": None,
    "condition_on_previous_text": True,
    "temperature_increment_on_fallback": 0.2,
    "compression_ratio_threshold": 2.4,
    "logprob_threshold": -1.0,
    "no_speech_threshold": 0.6,
    "enable_vad": None,  # None: off for WhisperModel, on for the batched pipeline (its default)
    "word_timestamps": False,
    "hotwords": None,
    "vad_parameters": None,
    "multilingual": False,
    "batch_size": 1,
}

# faster_whisper.vad.VadOptions in 1.2.1, exactly (later releases added more fields).
VAD_KEYS = (
    "threshold",
    "neg_threshold",
    "min_speech_duration_ms",
    "max_speech_duration_s",
    "min_silence_duration_ms",
    "speech_pad_ms",
)

# The batched pipeline refuses audio of 30 s or more without VAD or clip timestamps.
BATCH_WINDOW_S = 30


def _invalid(msg):
    return SidecarError("invalid_input", msg)


def resolve(raw) -> dict:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _invalid("options must be an object")
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise _invalid("unknown option(s): " + ", ".join(unknown))
    opts = dict(DEFAULTS)
    opts.update(raw)
    for key in ("transcription", "translation"):
        if opts[key] not in FORMATS:
            raise _invalid("%s must be one of %s" % (key, ", ".join(FORMATS)))
    if not isinstance(opts["model"], str) or not opts["model"]:
        raise _invalid("model is required")
    bs = opts["batch_size"]
    if not isinstance(bs, int) or isinstance(bs, bool) or bs < 1:
        raise _invalid("batch_size must be an integer >= 1")
    vp = opts["vad_parameters"]
    if vp is not None:
        if not isinstance(vp, dict):
            raise _invalid("vad_parameters must be an object")
        bad = sorted(set(vp) - set(VAD_KEYS))
        if bad:
            raise _invalid(
                "unknown vad_parameters key(s): %s (faster-whisper 1.2.1 has %s)"
                % (", ".join(bad), ", ".join(VAD_KEYS))
            )
    opts["suppress_tokens"] = suppress_tokens(opts["suppress_tokens"])
    return opts


def suppress_tokens(value):
    """worker-faster_whisper takes a string ("-1" or "1,2,3"); a list of ints is accepted too."""
    if isinstance(value, str):
        try:
            return [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise _invalid('suppress_tokens must be comma-separated integers, e.g. "-1" or "50,51"') from None
    if isinstance(value, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in value):
        return list(value)
    raise _invalid("suppress_tokens must be a string of comma-separated integers or a list of integers")


def check_suppress_tokens(ids, vocabulary, model):
    """ctranslate2 writes logits[id] for every id without a bounds check: only -1 (the model's
    non-speech set) and ids of the loaded model's vocabulary may reach it."""
    bad = [t for t in ids if t != -1 and not 0 <= t < vocabulary]
    if bad:
        shown = ", ".join(str(t) for t in bad[:5]) + (", ..." if len(bad) > 5 else "")
        raise _invalid(
            "suppress_tokens: %s not a token id of model %s (its vocabulary has %d tokens): "
            "use -1 or ids from 0 to %d" % (shown, model, vocabulary, vocabulary - 1)
        )


def temperature_schedule(temperature, increment):
    """Same schedule as worker-faster_whisper: temperature, +increment, ... up to 1.0."""
    t = float(temperature)
    if increment is None or increment <= 0 or t >= 1.0:
        return [t]
    out = []
    step = 0
    while True:
        value = round(t + step * float(increment), 6)
        if value > 1.0 + 1e-6:
            break
        out.append(value)
        step += 1
    return out


def batch_windows(samples: int):
    """clip_timestamps for the batched pipeline without VAD: 30 s windows, in SECONDS (1.2.1
    multiplies by the sampling rate itself). The last end is the audio's exact duration."""
    duration = samples / SAMPLE_RATE
    out = []
    start = 0
    while start * SAMPLE_RATE < samples:
        out.append({"start": float(start), "end": float(min(start + BATCH_WINDOW_S, duration))})
        start += BATCH_WINDOW_S
    return out


def transcribe_kwargs(opts: dict, samples: int) -> dict:
    """Keyword arguments for WhisperModel.transcribe / BatchedInferencePipeline.transcribe."""
    batched = opts["batch_size"] > 1
    kwargs = {
        "language": opts["language"],
        "task": "transcribe",
        "beam_size": opts["beam_size"],
        "best_of": opts["best_of"],
        "patience": opts["patience"],
        "length_penalty": opts["length_penalty"],
        # A fresh list: the sidecar shortens it in place when the job's compute budget runs out.
        "temperature": temperature_schedule(opts["temperature"], opts["temperature_increment_on_fallback"]),
        "compression_ratio_threshold": opts["compression_ratio_threshold"],
        "log_prob_threshold": opts["logprob_threshold"],
        "no_speech_threshold": opts["no_speech_threshold"],
        "condition_on_previous_text": opts["condition_on_previous_text"],
        "initial_prompt": opts["initial_prompt"],
        "suppress_tokens": list(opts["suppress_tokens"]),
        "word_timestamps": opts["word_timestamps"],
        "hotwords": opts["hotwords"],
        "multilingual": opts["multilingual"],
    }
    if opts["vad_parameters"] is not None:
        kwargs["vad_parameters"] = dict(opts["vad_parameters"])
    if batched:
        kwargs["batch_size"] = opts["batch_size"]
        vad = True if opts["enable_vad"] is None else bool(opts["enable_vad"])
        kwargs["vad_filter"] = vad
        if not vad and samples >= BATCH_WINDOW_S * SAMPLE_RATE:
            kwargs["clip_timestamps"] = batch_windows(samples)
    else:
        kwargs["vad_filter"] = bool(opts["enable_vad"])
        # worker-faster_whisper passes these explicitly (they equal the library defaults).
        kwargs.update(prefix=None, suppress_blank=True, without_timestamps=False, max_initial_timestamp=1.0)
    return kwargs
