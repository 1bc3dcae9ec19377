// Step 4: ffmpeg and ffprobe as the audio stage runs them (FFMPEG_BIN, FFPROBE_BIN), their
// version, and decoders for the codecs voice messages arrive in.
import { runChild, tail } from "../../handler/preflight/child.ts";
import { findOnPath } from "../../handler/preflight/nvidia-smi.ts";
import type { HostFacts } from "../facts.ts";
import { combine, fail, pass, type Check } from "../types.ts";

/** Codec ids (as ffmpeg names them) of the formats messaging apps send. */
export const VOICE_CODECS = [
  { codec: "opus", label: "opus" },
  { codec: "aac", label: "aac" },
  { codec: "mp3", label: "mp3" },
  { codec: "amr_nb", label: "amrnb" },
  { codec: "amr_wb", label: "amrwb" },
  { codec: "vorbis", label: "vorbis" },
  { codec: "flac", label: "flac" },
] as const;

/**
 * The codecs that have an audio decoder in `ffmpeg -hide_banner -decoders` output. A line is
 * ` A....D name   Description`; a decoder named differently from its codec says
 * `(codec X)` at the end ("libopus ... (codec opus)").
 */
export function audioDecoderCodecs(listing: string): Set<string> {
  const codecs = new Set<string>();
  for (const line of listing.split("\n")) {
    const m = /^\s*A[.A-Z]{5}\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || m[1] === "=") continue; // the legend above the list: " A..... = Audio"
    const named = /\(codec (\S+)\)\s*$/.exec(m[2] ?? "");
    codecs.add(named?.[1] ?? m[1]!);
  }
  return codecs;
}

/** "5.1.9-0+deb12u1" from "ffmpeg version 5.1.9-0+deb12u1 Copyright ...". */
export function parseVersion(output: string, tool: string): string | null {
  return new RegExp(`^${tool} version (\\S+)`, "m").exec(output)?.[1] ?? null;
}

const INSTALL = "`sudo apt-get install ffmpeg` (or `npm run setup`)";

export async function ffmpegStep(f: HostFacts): Promise<Check> {
  const ffmpeg = findOnPath(f.config.FFMPEG_BIN, f.env);
  const ffprobe = findOnPath(f.config.FFPROBE_BIN, f.env);
  const missing = [!ffmpeg && `ffmpeg (FFMPEG_BIN=${f.config.FFMPEG_BIN})`, !ffprobe && `ffprobe (FFPROBE_BIN=${f.config.FFPROBE_BIN})`].filter(Boolean);
  if (!ffmpeg || !ffprobe) {
    return fail(`not found: ${missing.join(", ")}; no voice message can be decoded`, `${INSTALL}, or set FFMPEG_BIN/FFPROBE_BIN to their paths`);
  }
  const opts = { env: f.env, timeoutMs: f.timeoutMs() };
  const [version, probeVersion, decoders] = await Promise.all([
    runChild(ffmpeg, ["-hide_banner", "-version"], opts),
    runChild(ffprobe, ["-hide_banner", "-version"], opts),
    runChild(ffmpeg, ["-hide_banner", "-decoders"], opts),
  ]);
  const broken = (label: string, bin: string, r: typeof version) =>
    fail(
      `${label} (${bin}) does not run: ${r.timedOut ? `no answer within ${opts.timeoutMs} ms` : (r.spawnError ?? (tail(r.stderr, 200) || `exit ${r.exitCode}`))}`,
      `${INSTALL}, or set ${label === "ffmpeg" ? "FFMPEG_BIN" : "FFPROBE_BIN"} to a working binary`,
    );
  if (version.exitCode !== 0) return broken("ffmpeg", ffmpeg, version);
  if (probeVersion.exitCode !== 0) return broken("ffprobe", ffprobe, probeVersion);
  if (decoders.exitCode !== 0) return broken("ffmpeg", ffmpeg, decoders);

  const v = parseVersion(version.stdout, "ffmpeg") ?? "unknown version";
  const pv = parseVersion(probeVersion.stdout, "ffprobe") ?? "unknown version";
  const have = audioDecoderCodecs(decoders.stdout);
  const lacking = VOICE_CODECS.filter((c) => !have.has(c.codec)).map((c) => c.label);
  const parts: Check[] = [pass(`ffmpeg ${v} (${ffmpeg}), ffprobe ${pv}`)];
  if (lacking.length === 0) parts.push(pass(`decoders for ${VOICE_CODECS.map((c) => c.label).join(", ")}`));
  else {
    parts.push(
      fail(
        `no decoder for ${lacking.join(", ")}: voice messages in ${lacking.length === 1 ? "that codec" : "those codecs"} would be rejected`,
        `Install a full ffmpeg build with these decoders (${INSTALL}), or set FFMPEG_BIN/FFPROBE_BIN to one`,
      ),
    );
  }
  return combine(parts);
}
