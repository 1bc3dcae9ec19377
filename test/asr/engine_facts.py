"""Reports facts about the faster-whisper TEST DOUBLE and the sidecar, in the shape of
test/doubles/faster-whisper-1.2.1.record.json, for test/asr/record.integration.test.ts.

    python engine_facts.py surface|cases|sidecar|classify   (JSON input on stdin, JSON on stdout)

Run with PYTHONPATH=test/doubles:sidecar.
"""

import dataclasses
import inspect
import json
import math
import os
import sys
import tempfile

import numpy as np

KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: "positional_only",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional_or_keyword",
    inspect.Parameter.VAR_POSITIONAL: "var_positional",
    inspect.Parameter.KEYWORD_ONLY: "keyword_only",
    inspect.Parameter.VAR_KEYWORD: "var_keyword",
}


def default(value):
    if isinstance(value, float) and math.isinf(value):
        return {"float": "inf"}
    return {"value": value}


def params(fn, drop_self=False):
    out = []
    for p in inspect.signature(fn).parameters.values():
        e = {"name": p.name, "kind": KINDS[p.kind]}
        if p.default is not inspect.Parameter.empty:
            e["default"] = default(p.default)
        out.append(e)
    if drop_self and out and out[0]["name"] == "self":
        out = out[1:]
    return out


def fields(cls):
    out = []
    for f in dataclasses.fields(cls):
        e = {"name": f.name}
        if f.default is not dataclasses.MISSING:
            e["default"] = default(f.default)
        out.append(e)
    return out


def surface():
    import ctranslate2
    import faster_whisper as fw
    import huggingface_hub
    from faster_whisper import _fake, audio, tokenizer, transcribe, utils, vad

    cache = tempfile.mkdtemp(prefix="engine-facts-models-")
    model = fw.WhisperModel("tiny", device="cpu", compute_type="int8", download_root=cache)
    pipeline = fw.BatchedInferencePipeline(model)
    vocab = {}
    for name in utils._MODELS:
        vocab[name] = fw.WhisperModel(
            name, device="cpu", compute_type="int8", download_root=cache
        ).hf_tokenizer.get_vocab_size()
    ct2 = model.model
    return {
        "faster_whisper": {
            "version": fw.__version__,
            "__all__": list(fw.__all__),
            "signatures": {
                "faster_whisper.WhisperModel.__init__": params(fw.WhisperModel.__init__),
                "faster_whisper.WhisperModel.transcribe": params(fw.WhisperModel.transcribe),
                "faster_whisper.WhisperModel.detect_language": params(fw.WhisperModel.detect_language),
                "faster_whisper.BatchedInferencePipeline.__init__": params(fw.BatchedInferencePipeline.__init__),
                "faster_whisper.BatchedInferencePipeline.transcribe": params(fw.BatchedInferencePipeline.transcribe),
                "faster_whisper.utils.download_model": params(utils.download_model),
                "faster_whisper.utils.available_models": params(utils.available_models),
                "faster_whisper.utils.format_timestamp": params(utils.format_timestamp),
                "faster_whisper.utils.get_logger": params(utils.get_logger),
                "faster_whisper.utils.get_assets_path": params(utils.get_assets_path),
                "faster_whisper.audio.decode_audio": params(audio.decode_audio),
                "faster_whisper.audio.pad_or_trim": params(audio.pad_or_trim),
            },
            "dataclasses": {
                "faster_whisper.transcribe.Word": fields(transcribe.Word),
                "faster_whisper.transcribe.Segment": fields(transcribe.Segment),
                "faster_whisper.transcribe.TranscriptionOptions": fields(transcribe.TranscriptionOptions),
                "faster_whisper.transcribe.TranscriptionInfo": fields(transcribe.TranscriptionInfo),
                "faster_whisper.vad.VadOptions": fields(vad.VadOptions),
            },
            "instance_attributes": {
                "faster_whisper.WhisperModel": sorted(vars(model)),
                "faster_whisper.BatchedInferencePipeline": sorted(vars(pipeline)),
            },
            "has_supported_languages": isinstance(getattr(type(model), "supported_languages", None), property),
            "models": dict(utils._MODELS),
            "tokenizer._TASKS": list(tokenizer._TASKS),
            "tokenizer._LANGUAGE_CODES": list(tokenizer._LANGUAGE_CODES),
        },
        "ctranslate2": {
            "version": ctranslate2.__version__,
            "module_functions": {
                n: params(getattr(ctranslate2, n))
                for n in ("contains_model", "get_cuda_device_count", "get_supported_compute_types", "set_random_seed")
            },
            "models.Whisper.__init__": params(_fake.FakeCT2Whisper.__init__, drop_self=True),
            "models.Whisper.properties": sorted(
                n for n in dir(ct2) if not n.startswith("_") and not callable(getattr(ct2, n))
            ),
            "models.Whisper.methods": {
                n: params(getattr(type(ct2), n), drop_self=True) for n in ("unload_model", "load_model")
            },
        },
        "tokenizers": {"Tokenizer.get_vocab_size": params(type(model.hf_tokenizer).get_vocab_size, drop_self=True)},
        "vocabulary_by_model": vocab,
        "huggingface_hub": {
            "exceptions": {
                name: [b.__name__ for b in getattr(huggingface_hub, name).__bases__]
                for name in (
                    "OfflineModeIsEnabled",
                    "HfHubHTTPError",
                    "RepositoryNotFoundError",
                    "GatedRepoError",
                    "RevisionNotFoundError",
                    "DisabledRepoError",
                    "EntryNotFoundError",
                    "RemoteEntryNotFoundError",
                    "LocalEntryNotFoundError",
                )
            }
        },
    }


def _value(v):
    if isinstance(v, dict) and set(v) == {"tuple"}:
        return tuple(v["tuple"])
    if isinstance(v, dict):
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def run_case(case):
    import faster_whisper as fw

    env = {}
    if case.get("condition") == "no_network":
        env["FAKE_HF_NETWORK"] = "down"
    if case.get("condition") == "hf_hub_offline":
        env["HF_HUB_OFFLINE"] = "1"
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    out = {"id": case["id"], "raised": None, "phase": "none", "message": None, "cause": None}
    phase = "construct"
    try:
        kwargs = dict(device="cpu", compute_type="int8", download_root=tempfile.mkdtemp(prefix="engine-facts-case-"))
        kwargs.update(_value(case.get("construct_kwargs") or {}))
        model = fw.WhisperModel(case["model"], **kwargs)
        if case["api"] == "WhisperModel":
            return out
        runner = fw.BatchedInferencePipeline(model) if case["api"].startswith("Batched") else model
        n = int(case["audio_s"] * 16000)
        audio = (0.3 * np.sin(2 * np.pi * 440 * np.arange(n) / 16000)).astype(np.float32)
        phase = "call"
        segments, info = runner.transcribe(audio, **_value(case.get("kwargs") or {}))
        out["info"] = {"language": info.language, "duration_after_vad": info.duration_after_vad}
        phase = "first_iteration"
        it = iter(segments)
        first = next(it, None)
        phase = "later"
        rest = list(it)
        segs = ([first] if first is not None else []) + rest
        out["segments"] = len(segs)
        out["max_end"] = max([s.end for s in segs] + [w.end for s in segs for w in (s.words or [])], default=None)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.update(
            raised=type(exc).__name__,
            phase=phase,
            message=str(exc),
            cause=type(exc.__cause__).__name__ if exc.__cause__ is not None else None,
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return out


def sidecar(requests):
    """The sidecar's own translation of job options into keyword arguments; with "run", the
    arguments are also given to the double (which raises what 1.2.1 raises)."""
    import faster_whisper as fw
    from asr_sidecar import engine_api, options

    model = None
    out = []
    for req in requests:
        try:
            opts = options.resolve(req["options"])
            kw = options.transcribe_kwargs(opts, req["samples"])
            item = {
                "api": "BatchedInferencePipeline.transcribe" if opts["batch_size"] > 1 else "WhisperModel.transcribe",
                "kwargs": sorted(kw),
                "vad_keys": sorted(kw.get("vad_parameters") or {}),
                "clip_timestamps": kw.get("clip_timestamps"),
                "error": None,
                "engine_error": None,
            }
            if req.get("run"):
                if model is None:
                    model = fw.WhisperModel(
                        "tiny",
                        device="cpu",
                        compute_type="int8",
                        download_root=tempfile.mkdtemp(prefix="engine-facts-run-"),
                    )
                runner = fw.BatchedInferencePipeline(model) if opts["batch_size"] > 1 else model
                audio = (0.3 * np.sin(2 * np.pi * 440 * np.arange(req["samples"]) / 16000)).astype(np.float32)
                try:
                    segments, info = runner.transcribe(audio, **kw)
                    for _ in segments:
                        pass
                    item["duration_after_vad"] = info.duration_after_vad
                except Exception as exc:  # noqa: BLE001
                    item["engine_error"] = "%s: %s" % (type(exc).__name__, exc)
            out.append(item)
        except Exception as exc:  # noqa: BLE001
            out.append({"error": "%s: %s" % (getattr(exc, "code", type(exc).__name__), exc)})
    return {
        "requests": out,
        "model_kwargs": sorted(engine_api.model_kwargs("tiny", "cpu", 0, "int8", 2, None, False)),
        "uses": engine_api.USES,
        "vad_keys": list(options.VAD_KEYS),
    }


def classify(items):
    """Maps (exception class from a real module or a name, message) through the sidecar."""
    import huggingface_hub
    from asr_sidecar.errors import classify_load_error, classify_transcribe_error

    out = []
    for it in items:
        cls = (
            getattr(__builtins__, it["type"], None)
            if not hasattr(huggingface_hub, it["type"])
            else getattr(huggingface_hub, it["type"])
        )
        if cls is None:
            cls = type(it["type"], (Exception,), {})
        exc = cls(it.get("message", ""))
        if it.get("cause"):
            cause_cls = getattr(huggingface_hub, it["cause"], None) or getattr(__builtins__, it["cause"], None)
            exc.__cause__ = cause_cls("cause")
        if it["where"] == "load":
            err = classify_load_error(exc, downloads_tried=it.get("downloads_tried", True))
        else:
            err = classify_transcribe_error(exc, before_first_segment=it["where"] != "later")
        out.append({"code": err.code, "retryable": err.retryable})
    return out


def static_calls(paths):
    """Keyword names of every call to a faster-whisper API in the given Python files (read with ast)."""
    import ast

    apis = {
        "WhisperModel": "faster_whisper.WhisperModel.__init__",
        "BatchedInferencePipeline": "faster_whisper.BatchedInferencePipeline.__init__",
        "download_model": "faster_whisper.utils.download_model",
        "transcribe": "faster_whisper.WhisperModel.transcribe",
    }
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in apis and not any(k.arg is None for k in node.keywords):
                out.append(
                    {"file": path, "line": node.lineno, "api": apis[name], "keywords": [k.arg for k in node.keywords]}
                )
    return out


def main():
    command = sys.argv[1]
    data = json.load(sys.stdin)
    if command == "surface":
        result = surface()
    elif command == "cases":
        result = [run_case(c) for c in data]
    elif command == "sidecar":
        result = sidecar(data)
    elif command == "static":
        result = static_calls(data)
    elif command == "classify":
        result = classify(data)
    else:
        raise SystemExit("unknown command %s" % command)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
