import { int, num } from "../handler/config/fields.ts";

/** `npm run diagnose` (the 8-step environment check). */
export const diagnoseSettings = {
  DIAGNOSE_TIMEOUT_MS: int({
    default: 7000,
    min: 500,
    doc: "Deadline of each diagnose step; the steps run at once, so without --deep the whole run stays under it (plus start-up).",
    example: "15000",
  }),
  DIAGNOSE_MIN_MEMORY_MB: int({
    default: 4096,
    min: 0,
    doc: "Diagnose fails when less memory than this is available (RunPod's fitness check refuses workers below 4 GB).",
    example: "8192",
  }),
  DIAGNOSE_MIN_DISK_PERCENT: num({
    default: 10,
    min: 0,
    max: 100,
    doc: "Diagnose fails when the model cache's filesystem has less free space than this share (RunPod's fitness check uses 10%).",
    example: "5",
  }),
};
