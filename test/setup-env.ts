// Runs before every test file: caches that the worker, the CUDA preflight and the faster-whisper test
// double write (Hugging Face hub, preflight verdicts, the local-stack file) go to a private temp
// folder, never into the user's real ~/.cache.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cache = mkdtempSync(join(tmpdir(), "vw-test-cache-"));
process.env.XDG_CACHE_HOME = cache;
process.env.HF_HOME = join(cache, "huggingface");
