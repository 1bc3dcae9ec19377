// The committed record of faster-whisper 1.2.1 / ctranslate2 4.6.3 (facts read from the tags),
// and the Python helper (engine_facts.py) that reports the same facts about the test double and the sidecar.
import { execa } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../handler/asr/python.ts";
import { DOUBLES, PYTHON } from "./helpers.ts";

export interface Param {
  name: string;
  kind: string;
  default?: { value?: unknown; float?: string; expr?: string };
}
export interface Field {
  name: string;
  type?: string;
  default?: Param["default"];
}
export interface RaisesCase {
  id: string;
  fact: string;
  api: "WhisperModel" | "WhisperModel.transcribe" | "BatchedInferencePipeline.transcribe";
  model: string;
  audio_s?: number;
  kwargs?: Record<string, unknown>;
  construct_kwargs?: Record<string, unknown>;
  condition?: "no_network" | "hf_hub_offline";
  raises: string | null;
  cause?: string;
  phase: "construct" | "call" | "first_iteration" | "none";
  message_contains?: string;
  info?: Record<string, unknown>;
}

export interface EngineRecord {
  faster_whisper: {
    version: string;
    __all__: string[];
    signatures: Record<string, Param[]>;
    dataclasses: Record<string, Field[]>;
    instance_attributes: Record<string, string[]>;
    models: Record<string, string>;
    "tokenizer._TASKS": string[];
    "tokenizer._LANGUAGE_CODES": string[];
    raises: RaisesCase[];
  };
  ctranslate2: {
    version: string;
    module_functions: Record<string, Param[]>;
    "models.Whisper.__init__": Param[];
    "models.Whisper.properties": string[];
    "models.Whisper.methods": Record<string, Param[]>;
  };
  tokenizers: Record<string, Param[]>;
  vocabulary_sizes: Record<string, number>;
  huggingface_hub: { exceptions: Record<string, string[]> };
}

export const RECORD_PATH = join(REPO_ROOT, "test", "doubles", "faster-whisper-1.2.1.record.json");
export const record = JSON.parse(readFileSync(RECORD_PATH, "utf8")) as EngineRecord;

/** name -> default value of a recorded signature (parameters without a default left out). */
export function recordedDefaults(signature: string): Record<string, unknown> {
  const params = record.faster_whisper.signatures[signature];
  if (!params) throw new Error(`no signature ${signature} in the record`);
  return Object.fromEntries(params.filter((p) => p.default && "value" in p.default).map((p) => [p.name, p.default!.value]));
}

export function paramNames(signature: string): string[] {
  const params = record.faster_whisper.signatures[signature];
  if (!params) throw new Error(`no signature ${signature} in the record`);
  return params.map((p) => p.name);
}

/** Runs test/asr/engine_facts.py (on the double, with the sidecar's package importable). */
export async function engineFacts<T>(command: string, input: unknown = null, env: Record<string, string> = {}): Promise<T> {
  const { stdout } = await execa(PYTHON, [join(REPO_ROOT, "test", "asr", "engine_facts.py"), command], {
    input: JSON.stringify(input),
    env: { PYTHONPATH: `${DOUBLES}:${join(REPO_ROOT, "sidecar")}`, ...env },
    extendEnv: true,
  });
  return JSON.parse(stdout) as T;
}
