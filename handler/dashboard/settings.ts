import { z } from "zod";
import { bool, describe, int, str } from "../config/fields.ts";
import { Secret } from "../config/secret.ts";

/** The operator web view (`npm run dashboard`, and the local default of `npm start`). */
export const dashboardSettings = {
  DASHBOARD_TOKEN: describe(
    z.preprocess(
      (v) => (v === "" ? undefined : v),
      z
        .string()
        .min(16, "must be at least 16 characters (e.g. openssl rand -hex 24)")
        .transform((v) => new Secret(v))
        .optional(),
    ),
    {
      doc: "Token for the dashboard's actions (retry, purge, push) and, when it is bound to anything but loopback, for every page. Unset: actions are refused.",
      example: "3f9c0e...(openssl rand -hex 24)",
      secret: true,
    },
  ),
  DASHBOARD_HOST: str({
    default: "127.0.0.1",
    doc: "Address the dashboard listens on. Anything but loopback requires DASHBOARD_TOKEN for every page.",
    example: "0.0.0.0",
  }),
  DASHBOARD_PORT: int({ default: 8078, min: 0, max: 65535, doc: "Port of the dashboard. 0: any free port.", example: "9000" }),
  DASHBOARD_REFRESH_S: int({
    default: 10,
    min: 2,
    max: 3600,
    doc: "How often an open (visible) dashboard tab refreshes; each refresh costs a few Upstash commands (README: Dashboard).",
    example: "30",
  }),
  LOCAL_DASHBOARD: bool({ default: true, doc: "Serve the dashboard with the local default of npm start (the local stack).", example: "false" }),
};
