"""Behaviour of the faster-whisper TEST DOUBLE, driven by environment variables.

Read at each call (so one process can be re-configured between tests):

FAKE_FW_TEXT              transcript text, spread over the segments word by word. Unset: each
                          segment says "Segment <i> of <n>, <duration> seconds of audio."
FAKE_FW_TRANSLATION_TEXT  text produced when task="translate". Unset: "English translation of
                          segment <i> of <n>." (an English marker, whatever the language).
FAKE_FW_LANGUAGE          language "detected" when language=None (default "en").
FAKE_FW_LANGUAGE_PROB     its probability (default 0.97).
FAKE_FW_SEGMENT_S         seconds of audio per segment inside a 30 s window (default 5).
FAKE_FW_EXPECT_SAMPLES    if set, the audio array must have exactly this many samples.
FAKE_FW_FAULT             comma list of faults:
    cuda_abort               os.abort() at the first encoder pass when device == "cuda"
    cudnn_error              the cuDNN loader message on stderr, then os.abort(), on cuda
                             (FAKE_FW_CUDNN_MAJOR=9 (default) or 8 picks the wording)
    cublas_error             RuntimeError("Library libcublas.so.12 is not found or cannot be
                             loaded") at every encoder pass on cuda (FAKE_FW_CUBLAS_SONAME)
    driver_too_old           RuntimeError("CUDA failed with error CUDA driver version is
                             insufficient for CUDA runtime version") at encode on cuda
    compute_type_unsupported ValueError at WhisperModel() on cuda for float16/bfloat16 types,
                             with CTranslate2's wording
    load_error               WhisperModel() fails: model not found (LocalEntryNotFoundError)
    empty                    transcription yields no segments
    hang                     iteration blocks forever before the first segment
FAKE_FW_DLOPEN            comma list of sonames the first encoder pass on cuda really loads
                          (ctypes, so LD_LIBRARY_PATH as given at spawn decides), as the real
                          CTranslate2 does; a failure raises its "is not found" RuntimeError
FAKE_FW_FAULT_FILE        path of a file holding a fault list like FAKE_FW_FAULT, read at every
                          check (when the file exists it replaces FAKE_FW_FAULT): lets a test
                          change faults between jobs of a process it does not spawn itself
FAKE_FW_LOAD_MS           WhisperModel() takes this long (a slow disk or download)
FAKE_FW_MS_PER_AUDIO_S    engine time per second of audio per decode. Like the real library,
                          a 30 s window's whole cost (every decode of its temperature fallback)
                          is paid before its first segment is yielded
FAKE_FW_FALLBACK          how many decodes each window needs: "none" (default: the first
                          temperature passes), "all" (every temperature fails the thresholds:
                          the real worst case, ~6.5x a single pass on CPU), or a number of
                          extra decodes. The list is read from the options object at each
                          window, as the real generator does
FAKE_FW_WORD_TS_FACTOR    cost multiplier when word_timestamps=True (default 1; measured 3-4)
FAKE_FW_END_OVERRUN       "window" (default): the last segment (and word) of the final window
                          ends at the window's end (window start + 29.98 s), past the audio,
                          as the real model reports; "none": it ends with the audio
FAKE_FW_RAISE             "<ExceptionClass>@<call|first_window|later>": raise that builtin
                          exception inside transcribe(), at the first window or at the second
                          one, as the library raises what it refuses (the record lists which
                          inputs raise what; this reaches the same points without such input)
FAKE_FW_LEAK_MB_PER_CALL  keep this many MB alive after each transcribe() call
FAKE_FW_MODEL_MB          resident memory held by each loaded model (released with it)
FAKE_FW_CUDA_DEVICES      CUDA devices device="auto" sees (default 0: auto picks cpu)
FAKE_FW_OFFLINE=1         no network to the Hub (see huggingface_hub's double for the others:
                          FAKE_HF_NETWORK=down|5xx|reset, FAKE_HF_REPOS, FAKE_HF_GATED)
FAKE_FW_CALL_LOG          path: one JSON line appended per transcribe() call (model
                          constructor args, explicit and effective kwargs, audio length and
                          sha256, device, compute_type, pid)
FAKE_FW_LOAD_LOG          path: one JSON line per model construction ("load") and release
                          ("release", from __del__)
FAKE_FW_DECODE_LOG        path: one JSON line when each decode of a window starts (its
                          temperature): lets a test act while a decode is in flight

Where the faults fire mirrors the real engine: the encoder first runs inside transcribe()
when the language must be detected, otherwise at the first segment of the lazy generator.
"""

import ctypes
import dataclasses
import json
import math
import os
import sys
import time

_LEAKED = []

CPU_UNSUPPORTED = ("float16", "int8_float16", "bfloat16", "int8_bfloat16")
COMPUTE_TYPES = (
    "default",
    "auto",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
)


def env(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def faults():
    spec = env("FAKE_FW_FAULT", "")
    path = env("FAKE_FW_FAULT_FILE")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            spec = f.read()
    return {f.strip() for f in spec.split(",") if f.strip()}


def json_safe(value):
    """Turns what the engine receives into JSON a test can read (no NaN/Infinity)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def append_log(var, record):
    path = env(var)
    if not path:
        return
    record = dict(record, pid=os.getpid(), time=time.time())
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(json_safe(record)) + "\n")


def hold_memory(mb):
    """Resident bytes (written, so the pages are really touched)."""
    if mb <= 0:
        return None
    return b"\xa5" * int(mb * 1024 * 1024)


def leak():
    mb = float(env("FAKE_FW_LEAK_MB_PER_CALL", "0"))
    block = hold_memory(mb)
    if block is not None:
        _LEAKED.append(block)


def _abort():
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files in the test tree
    except Exception:  # noqa: BLE001 - best effort: the abort below is what matters
        pass
    sys.stderr.flush()
    os.abort()


def encoder_pass(device):
    """The first point where a real CUDA stack with missing libraries fails."""
    active = faults()
    if device != "cuda":
        return
    if "cuda_abort" in active:
        _abort()
    if "cudnn_error" in active:
        if env("FAKE_FW_CUDNN_MAJOR", "9") == "8":
            sys.stderr.write(
                "Could not load library libcudnn_ops_infer.so.8. Error: libcudnn_ops_infer.so.8: "
                "cannot open shared object file: No such file or directory\n"
                "Please make sure libcudnn_ops_infer.so.8 is in your library path!\n"
            )
        else:
            sys.stderr.write(
                "Unable to load any of {libcudnn_ops.so.9.1.0, libcudnn_ops.so.9.1, "
                "libcudnn_ops.so.9, libcudnn_ops.so}\n"
                "Invalid handle. Cannot load symbol cudnnCreateTensorDescriptor\n"
            )
        _abort()
    for soname in filter(None, env("FAKE_FW_DLOPEN", "").split(",")):
        try:
            ctypes.CDLL(soname.strip())
        except OSError:
            raise RuntimeError("Library %s is not found or cannot be loaded" % soname.strip()) from None
    if "cublas_error" in active:
        soname = env("FAKE_FW_CUBLAS_SONAME", "libcublas.so.12")
        raise RuntimeError("Library %s is not found or cannot be loaded" % soname)
    if "driver_too_old" in active:
        raise RuntimeError("CUDA failed with error CUDA driver version is insufficient for CUDA runtime version")


def raise_if_asked(point):
    spec = env("FAKE_FW_RAISE")
    if not spec or "@" not in spec:
        return
    name, where = spec.split("@", 1)
    if where == point:
        import builtins

        raise getattr(builtins, name)("TEST DOUBLE: injected %s at %s" % (name, point))


def hang_if_asked():
    if "hang" in faults():
        while True:  # like a stuck native call: only a signal ends it
            time.sleep(3600)


INT32 = (-(2**31), 2**31 - 1)


class FakeCT2Whisper:
    """Stands in for ctranslate2.models.Whisper (4.6.3): same constructor parameters; checks the
    model files and the device; generate_check() refuses what pybind11 cannot convert."""

    def __init__(
        self,
        model_path,
        device="cpu",
        *,
        device_index=0,
        compute_type="default",
        inter_threads=1,
        intra_threads=0,
        max_queued_batches=0,
        flash_attention=False,
        tensor_parallel=False,
        files=None,
    ):
        if device == "auto":
            device = "cuda" if int(env("FAKE_FW_CUDA_DEVICES", "0")) > 0 else "cpu"
        if device not in ("cpu", "cuda"):
            raise ValueError("unsupported device %s" % device)
        if compute_type not in COMPUTE_TYPES:
            raise ValueError("Invalid compute type: %s" % compute_type)
        requested = compute_type
        if compute_type in ("default", "auto"):
            compute_type = "float16" if device == "cuda" else ("int8_float32" if compute_type == "auto" else "float32")
        unsupported = (device == "cpu" and compute_type in CPU_UNSUPPORTED) or (
            device == "cuda"
            and "compute_type_unsupported" in faults()
            and ("float16" in compute_type or "bfloat16" in compute_type)
        )
        if unsupported:
            raise ValueError(
                "Requested %s compute type, but the target device or backend do not support "
                "efficient %s computation." % (requested, requested)
            )
        load_ms = float(env("FAKE_FW_LOAD_MS", "0"))
        if load_ms > 0:
            time.sleep(load_ms / 1000.0)
        config = {}
        if files is None:
            for name in ("config.json", "model.bin"):
                if not os.path.isfile(os.path.join(model_path, name)):
                    raise RuntimeError("Unable to open file '%s' in model '%s'" % (name, model_path))
            with open(os.path.join(model_path, "config.json"), encoding="utf-8") as f:
                config = json.load(f)
        base = os.path.basename(os.path.normpath(str(model_path)))
        self.is_multilingual = bool(config.get("fake_is_multilingual", not base.endswith(".en")))
        self.n_mels = int(config.get("num_mel_bins", 80))
        self.num_languages = 100 if self.is_multilingual else 0
        self.device = device
        self.device_index = [device_index] if isinstance(device_index, int) else list(device_index)
        self.compute_type = compute_type
        self.num_workers = inter_threads
        self.num_queued_batches = 0
        self.num_active_batches = 0
        self.tensor_parallel = bool(tensor_parallel)
        self._intra_threads = intra_threads
        self._memory = hold_memory(float(env("FAKE_FW_MODEL_MB", "0")))
        self.model_is_loaded = True

    @property
    def _vocabulary_size(self):
        """Not exposed by ctranslate2 (its logits have this many columns): the double's own."""
        return 51866 if self.n_mels == 128 else (51865 if self.is_multilingual else 51864)

    def unload_model(self, to_cpu=False):
        self._memory = None
        self.model_is_loaded = False

    def load_model(self, keep_cache=False):
        self.model_is_loaded = True

    def generate_check(self, suppress_tokens):
        """What Whisper.generate does with suppress_tokens before decoding: pybind11 converts the
        list to std::vector<int> (TypeError outside int32); decoding_utils.h then writes
        logits[id] without a bounds check. Returns True when an id is past the vocabulary
        (undefined behaviour in the real engine: the double reports a garbage log-probability)."""
        ids = list(suppress_tokens or [])
        if any(not isinstance(t, int) or not INT32[0] <= t <= INT32[1] for t in ids):
            raise TypeError(
                "generate(): incompatible function arguments. The following argument types are supported:\n"
                "    1. (self: ctranslate2._ext.Whisper, features: ctranslate2._ext.StorageView, prompts: "
                "Union[list[list[str]], list[list[int]]], *, ..., suppress_tokens: Optional[list[int]] = [-1], ...)"
            )
        return any(t >= self._vocabulary_size for t in ids)


class FakeHFTokenizer:
    """Stands in for tokenizers.Tokenizer as WhisperModel.hf_tokenizer: the vocabulary size
    (with the added special tokens, as get_vocab_size(with_added_tokens=True) counts them) is read
    from the model's tokenizer.json; without one, faster-whisper falls back to openai/whisper-tiny
    (.en for English-only models), 51865 / 51864 tokens."""

    def __init__(self, vocab_size):
        self._size = int(vocab_size)

    @classmethod
    def for_model(cls, model_path, is_multilingual):
        path = os.path.join(str(model_path), "tokenizer.json")
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as f:
                    size = json.load(f).get("test_double_vocab_size")
                if size:
                    return cls(size)
            except (ValueError, AttributeError):
                pass
        return cls(51865 if is_multilingual else 51864)

    def get_vocab_size(self, with_added_tokens=True):
        return self._size if with_added_tokens else 50257
