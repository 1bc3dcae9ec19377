// Steps 4-7 on simulated hosts: ffmpeg (real, missing, or replaying ffmpeg 5.1's real output
// without some decoders), the sidecar interpreter (missing, Python 3.8, a venv), its packages
// (as pip's metadata describes them), and model folders (a directory, the Hugging Face cache).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { audioDecoderCodecs, VOICE_CODECS } from "../../diagnostics/steps/ffmpeg.ts";
import { LibStore, useHostWorkspace } from "../preflight/host.ts";
import { DIAG_FIXTURES, makeDiagHost, MODEL_FILES, step, writeHubModel, writeModelDir, writeScript, type DiagHost, type DiagHostSpec } from "./helpers.ts";

let root: string;
let store: LibStore;
let python: string;
useHostWorkspace((w) => ({ root, store, python } = w));

const host = (spec: Partial<DiagHostSpec> = {}): DiagHost =>
  makeDiagHost(root, store, python, { nvidiaSmi: null, ct2Version: "4.6.3", cudaDevices: 0, ...spec });

describe("step 4: FFmpeg", () => {
  it("parses the real ffmpeg 5.1 decoder listing: every voice codec, by decoder or '(codec X)' name", () => {
    const listing = readFileSync(join(DIAG_FIXTURES, "ffmpeg-5.1", "decoders.txt"), "utf8");
    const codecs = audioDecoderCodecs(listing);
    for (const c of VOICE_CODECS) expect(codecs.has(c.codec), c.codec).toBe(true);
    expect(codecs.has("h264")).toBe(false); // a video decoder
    expect(codecs.has("=")).toBe(false); // the legend
    const withoutNative = audioDecoderCodecs(
      listing
        .split("\n")
        .filter((l) => !/^ A\S* opus /.test(l))
        .join("\n"),
    );
    expect(withoutNative.has("opus")).toBe(true); // libopus still decodes opus
  });

  it("this machine's ffmpeg passes with its version and the decoders", async () => {
    const h = host({ ffmpeg: "real" });
    const r = step(await h.diagnose({ only: ["ffmpeg"] }), "ffmpeg");
    expect(r).toMatchObject({ status: "pass", fix: null });
    expect(r.detail).toMatch(/^ffmpeg \d+\.\d+\S* \(.*ffmpeg\), ffprobe \d/);
    expect(r.detail).toContain("decoders for opus, aac, mp3, amrnb, amrwb, vorbis, flac");
  });

  it("no ffmpeg: fails with the install command and the settings", async () => {
    const h = host({ ffmpeg: null });
    const r = step(await h.diagnose({ only: ["ffmpeg"] }), "ffmpeg");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("not found: ffmpeg (FFMPEG_BIN=ffmpeg), ffprobe (FFPROBE_BIN=ffprobe)");
    expect(r.fix).toContain("sudo apt-get install ffmpeg");
    expect(r.fix).toContain("FFMPEG_BIN");
    const bad = step(await h.diagnose({ only: ["ffmpeg"], env: { FFMPEG_BIN: "/nonexistent/ffmpeg", PATH: "/usr/bin" } }), "ffmpeg");
    expect(bad.detail).toBe("not found: ffmpeg (FFMPEG_BIN=/nonexistent/ffmpeg); no voice message can be decoded");
  });

  it("an ffmpeg without an opus decoder (real 5.1 listing minus opus and libopus): fails naming opus", async () => {
    const full = host({ ffmpeg: "fake" });
    expect(step(await full.diagnose({ only: ["ffmpeg"] }), "ffmpeg").status).toBe("pass");

    const h = host({ ffmpeg: "fake", env: { FAKE_FFMPEG_DROP: "opus libopus" } });
    const r = step(await h.diagnose({ only: ["ffmpeg"] }), "ffmpeg");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("ffmpeg 5.1.9-0+deb12u1");
    expect(r.detail).toContain("no decoder for opus: voice messages in that codec would be rejected");
    expect(r.fix).toContain("Install a full ffmpeg build");

    const noAmr = host({ ffmpeg: "fake", env: { FAKE_FFMPEG_DROP: "amrnb amrwb" } });
    expect(step(await noAmr.diagnose({ only: ["ffmpeg"] }), "ffmpeg").detail).toContain("no decoder for amrnb, amrwb");
  });
});

describe("step 5: Python environment", () => {
  it("the host's venv passes as an isolated venv", async () => {
    const h = host();
    const r = step(await h.diagnose({ only: ["python"] }), "python");
    expect(r.status).toBe("pass");
    expect(r.detail).toContain(`SIDECAR_PYTHON=${h.python} (Python 3.`);
    expect(r.detail).toContain("isolated venv at");
  });

  it("no python at all: SIDECAR_PYTHON missing, or no python3 on PATH and no sidecar/.venv", async () => {
    const h = host();
    const s = await h.diagnose({ only: ["python", "python-packages"], env: { SIDECAR_PYTHON: "/nonexistent/python" } });
    expect(step(s, "python")).toMatchObject({ status: "fail", detail: "no sidecar Python: SIDECAR_PYTHON=/nonexistent/python not found" });
    expect(step(s, "python").fix).toContain("Set SIDECAR_PYTHON to a Python >= 3.9");
    expect(step(s, "python-packages").status).toBe("fail");

    // No SIDECAR_PYTHON and a checkout without sidecar/.venv: python3 from the host's PATH (none there).
    const checkout = mkdtempSync(join(h.dir, "checkout-"));
    const none = step(await h.diagnose({ only: ["python"], env: { SIDECAR_PYTHON: undefined }, repoRoot: checkout }), "python");
    expect(none).toMatchObject({ status: "fail", detail: "no sidecar Python: python3 not found" });
    expect(none.fix).toContain("sudo apt-get install python3 python3-venv");
  });

  it("Python 3.8: fails, faster-whisper needs >= 3.9", async () => {
    const h = host();
    const py38 = writeScript(
      join(h.bin, "python3.8"),
      'if [ "$1" = "--version" ]; then echo "Python 3.8.18"; exit 0; fi\necho "python3.8: fake interpreter" >&2; exit 1',
    );
    const s = await h.diagnose({ only: ["python", "python-packages"], env: { SIDECAR_PYTHON: py38 } });
    expect(step(s, "python")).toMatchObject({ status: "fail", detail: `SIDECAR_PYTHON=${py38} is Python 3.8.18; faster-whisper needs >= 3.9` });
    expect(step(s, "python-packages").detail).toContain("no usable sidecar Python (step 5)");
  });

  it("a system interpreter (not a venv) is a warning that points at npm run setup", async () => {
    const h = host();
    const r = step(await h.diagnose({ only: ["python"], env: { SIDECAR_PYTHON: python } }), "python");
    expect(r.status).toBe("warn");
    expect(r.detail).toContain("not a virtual environment");
    expect(r.fix).toContain("npm run setup");
  });
});

describe("step 6: Python packages", () => {
  it("faster-whisper missing: fails, and the fix names npm run setup", async () => {
    const h = host({ noFasterWhisper: true, dists: { ctranslate2: "4.6.3", av: "14.4.0", onnxruntime: "1.22.1" } });
    const r = step(await h.diagnose({ only: ["python-packages"] }), "python-packages");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain(`faster-whisper is not installed in ${h.python}`);
    expect(r.fix).toContain("npm run setup");
    expect(r.fix).toContain("-m pip install -r");
  });

  it("versions come from the packages' metadata; a version other than the pin warns, a missing onnxruntime warns", async () => {
    const h = host({ dists: { "faster-whisper": "1.1.0", ctranslate2: "4.6.3", av: "14.4.0" } });
    const r = step(await h.diagnose({ only: ["python-packages"] }), "python-packages");
    expect(r.status).toBe("warn");
    expect(r.detail).toContain("faster-whisper 1.1.0 (pinned: 1.2.1)");
    expect(r.detail).toContain("av 14.4.0");
    expect(r.detail).toContain("onnxruntime is missing: VAD (vad_filter) fails");
  });

  it("PyAV missing fails; the test double on PYTHONPATH is refused", async () => {
    const h = host({ dists: { "faster-whisper": "1.2.1", ctranslate2: "4.6.3", onnxruntime: "1.22.1" } });
    expect(step(await h.diagnose({ only: ["python-packages"] }), "python-packages").detail).toContain("av (PyAV) is missing");
    const r = step(await h.diagnose({ only: ["python-packages"], env: { PYTHONPATH: join(process.cwd(), "test", "doubles") } }), "python-packages");
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("TEST DOUBLE");
    expect(r.fix).toContain("Remove test/doubles from PYTHONPATH");
  });
});

describe("step 7: Whisper model files", () => {
  it("a model directory missing tokenizer.json fails; complete, it passes with its size", async () => {
    const h = host();
    const dir = writeModelDir(
      join(h.dir, "my-model"),
      MODEL_FILES.filter((f) => f !== "tokenizer.json"),
    );
    const r = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: dir } }), "model");
    expect(r.status).toBe("fail");
    expect(r.detail).toBe(`model directory ${dir} lacks tokenizer.json`);
    expect(r.fix).toContain("tokenizer.json");

    writeModelDir(dir, ["tokenizer.json"]);
    const ok = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: dir } }), "model");
    expect(ok.status).toBe("pass");
    expect(ok.detail).toMatch(/complete \(2 MiB\)/);
  });

  it("large-v3 and turbo also need preprocessor_config.json (128 mel bins); tiny does not", async () => {
    const h = host();
    const v3 = writeModelDir(join(h.dir, "large-v3-ct2"), MODEL_FILES);
    expect(step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: v3 } }), "model").detail).toContain("lacks preprocessor_config.json");
    const tiny = writeModelDir(join(h.dir, "tiny-ct2"), MODEL_FILES);
    expect(step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: tiny } }), "model").status).toBe("pass");
  });

  it("a name in MODEL_DIR's hub cache: complete passes, incomplete fails with the folder to delete", async () => {
    const h = host();
    const cache = join(h.dir, "models");
    const snapshot = writeHubModel(cache, "Systran/faster-whisper-tiny", MODEL_FILES);
    const ok = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "tiny", MODEL_DIR: cache } }), "model");
    expect(ok).toMatchObject({ status: "pass", detail: `tiny: ${snapshot} (2 MiB)` });

    const turboSnap = writeHubModel(cache, "mobiuslabsgmbh/faster-whisper-large-v3-turbo", [
      "config.json",
      "model.bin",
      "vocabulary.json",
      "preprocessor_config.json",
    ]);
    const bad = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "turbo", MODEL_DIR: cache } }), "model");
    expect(bad.status).toBe("fail");
    expect(bad.detail).toBe(`turbo is incomplete: ${turboSnap} lacks tokenizer.json (an interrupted download?)`);
    expect(bad.fix).toContain(join(cache, "models--mobiuslabsgmbh--faster-whisper-large-v3-turbo"));
  });

  it("a placeholder model.bin (the test double's, 37 bytes) is not a model", async () => {
    const h = host();
    const dir = writeModelDir(join(h.dir, "placeholder"), MODEL_FILES);
    writeFileSync(join(dir, "model.bin"), "TEST DOUBLE: not a CTranslate2 model\n");
    const r = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: dir } }), "model");
    expect(r).toMatchObject({ status: "fail", detail: `model directory ${dir} has unusable model.bin (37 bytes)` });
  });

  it("not downloaded: a warning when downloads are allowed, a failure when offline", async () => {
    const h = host();
    const cache = mkdtempSync(join(h.dir, "empty-cache-"));
    const allow = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "small", MODEL_DIR: cache } }), "model");
    expect(allow.status).toBe("warn");
    expect(allow.detail).toContain(`small (Systran/faster-whisper-small in ${cache}) is not downloaded yet: downloadable`);
    expect(allow.fix).toContain("npm run setup");

    const never = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "small", MODEL_DIR: cache, MODEL_DOWNLOAD: "never" } }), "model");
    expect(never.status).toBe("fail");
    expect(never.detail).toContain("downloads are off (MODEL_DOWNLOAD=never)");
    const hfOffline = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "small", MODEL_DIR: cache, HF_HUB_OFFLINE: "1" } }), "model");
    expect(hfOffline.status).toBe("fail");
    expect(hfOffline.detail).toContain("HF_HUB_OFFLINE is set");
  });

  it("without MODEL_DIR the Hugging Face cache under HF_HOME is where it looks", async () => {
    const h = host();
    const hfHome = join(h.dir, "hf");
    mkdirSync(hfHome);
    writeHubModel(join(hfHome, "hub"), "Systran/faster-whisper-base.en", MODEL_FILES);
    const r = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "base.en", HF_HOME: hfHome } }), "model");
    expect(r.status).toBe("pass");
    expect(r.detail).toContain(join(hfHome, "hub", "models--Systran--faster-whisper-base.en", "snapshots"));
  });

  it("a path that is not a directory and an unknown name fail with the setting to change", async () => {
    const h = host();
    const gone = join(h.dir, "gone");
    expect(step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: gone } }), "model")).toMatchObject({
      status: "fail",
      detail: `WHISPER_MODEL=${gone} is not a directory`,
    });
    const r = step(await h.diagnose({ only: ["model"], env: { WHISPER_MODEL: "huge-v9" } }), "model");
    expect(r.status).toBe("fail");
    expect(r.fix).toContain("tiny.en, tiny, base.en");
  });
});
