// Step 7: the configured Whisper model where the sidecar will look for it (a local directory,
// or MODEL_DIR / the Hugging Face cache), with every file it reads; or whether it can be
// downloaded at the first job (MODEL_DOWNLOAD=allow and HF_HUB_OFFLINE unset).
import type { HostFacts } from "../facts.ts";
import { approxModelMB, inspectModelDir, MODEL_REPOS, type ModelFiles } from "../model-files.ts";
import { fail, pass, warn, type Check } from "../types.ts";

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

/** "lacks tokenizer.json and has unusable model.bin (37 bytes)", or null when complete. */
function problems(files: ModelFiles): string | null {
  const parts = [files.missing.length > 0 && `lacks ${files.missing.join(", ")}`, files.empty.length > 0 && `has unusable ${files.empty.join(", ")}`].filter(
    Boolean,
  );
  return parts.length > 0 ? parts.join(" and ") : null;
}

export async function modelStep(f: HostFacts): Promise<Check> {
  const name = f.config.WHISPER_MODEL;
  const loc = await f.model();
  if (loc.kind === "no_dir")
    return fail(
      `WHISPER_MODEL=${name} is not a directory`,
      "Set WHISPER_MODEL to a model directory that exists, or to a model name (tiny, base, small, medium, large-v3, turbo, ...)",
    );
  if (loc.kind === "unknown_name") {
    return fail(
      `WHISPER_MODEL=${name} is neither a faster-whisper model name nor a Hugging Face repo id`,
      `Set WHISPER_MODEL to one of ${Object.keys(MODEL_REPOS).join(", ")}, an "org/repo" id, or a model directory`,
    );
  }
  if (loc.kind === "dir") {
    const files = inspectModelDir(loc.path, loc.path);
    const bad = problems(files);
    if (!bad) return pass(`${loc.path}: complete (${formatBytes(files.sizeBytes)})`);
    return fail(
      `model directory ${loc.path} ${bad}`,
      "Copy the complete model into it (config.json, model.bin, tokenizer.json, vocabulary.*, and preprocessor_config.json for large-v3/turbo), or set WHISPER_MODEL to a model name that setup downloads (`npm run setup`)",
    );
  }

  const where = `${loc.repoId} in ${loc.cacheDir}`;
  const offlineWhy = f.config.MODEL_DOWNLOAD === "never" ? "MODEL_DOWNLOAD=never" : "HF_HUB_OFFLINE is set";
  const modelDirFix = f.config.MODEL_DIR ? "" : " (set MODEL_DIR to keep models on a persistent volume)";
  if (!loc.snapshot) {
    const size = `about ${formatBytes(approxModelMB(loc.repoId) * 1024 ** 2)}`;
    if (f.offline)
      return fail(
        `${name} (${where}) is not downloaded and downloads are off (${offlineWhy})`,
        `Run \`npm run setup\` on a host with network to prefetch it${modelDirFix}, or set MODEL_DOWNLOAD=allow`,
      );
    return warn(`${name} (${where}) is not downloaded yet: downloadable, the first job fetches ${size}`, `Run \`npm run setup\` to prefetch it${modelDirFix}`);
  }
  const files = inspectModelDir(loc.snapshot, loc.repoId);
  const bad = problems(files);
  if (!bad) return pass(`${name}: ${loc.snapshot} (${formatBytes(files.sizeBytes)})`);
  return fail(
    `${name} is incomplete: ${loc.snapshot} ${bad} (an interrupted download?)`,
    `Delete ${loc.repoDir} and run \`npm run setup\` to download it again`,
  );
}
