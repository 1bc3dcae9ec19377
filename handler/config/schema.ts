import { z } from "zod";
import { coreSettings } from "./core.ts";
import { queueSettings } from "../queue/settings.ts";
import { audioSettings } from "../audio/settings.ts";
import { asrSettings } from "../asr/settings.ts";
import { analysisSettings } from "../analysis/settings.ts";
import { runpodSettings } from "../runpod/settings.ts";
import { preflightSettings } from "../preflight/settings.ts";
import { diagnoseSettings } from "../../diagnostics/settings.ts";
import { dashboardSettings } from "../dashboard/settings.ts";

/** Every setting, grouped by the stage that owns it (the README table follows this order). */
export const settingGroups = {
  Core: coreSettings,
  Queue: queueSettings,
  Audio: audioSettings,
  "Speech to text": asrSettings,
  "CUDA preflight": preflightSettings,
  Diagnose: diagnoseSettings,
  Analysis: analysisSettings,
  RunPod: runpodSettings,
  Dashboard: dashboardSettings,
} as const;

export const settingsShape = {
  ...coreSettings,
  ...queueSettings,
  ...audioSettings,
  ...asrSettings,
  ...preflightSettings,
  ...diagnoseSettings,
  ...analysisSettings,
  ...runpodSettings,
  ...dashboardSettings,
};

export const configSchema = z.object(settingsShape).superRefine((c, ctx) => {
  if (c.UPSTASH_REDIS_REST_URL && !c.UPSTASH_REDIS_REST_TOKEN) {
    ctx.addIssue({ code: "custom", path: ["UPSTASH_REDIS_REST_TOKEN"], message: "is required when UPSTASH_REDIS_REST_URL is set" });
  }
  if (c.IDLE_POLL_MIN_MS > c.IDLE_POLL_MAX_MS) {
    ctx.addIssue({ code: "custom", path: ["IDLE_POLL_MIN_MS"], message: "must not exceed IDLE_POLL_MAX_MS" });
  }
});

export type Config = z.infer<typeof configSchema>;
export type SettingName = keyof typeof settingsShape;
