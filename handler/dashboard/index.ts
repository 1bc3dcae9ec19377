import type { Config } from "../config/schema.ts";
import { WorkerError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import type { UpstashConnection } from "../queue/redis.ts";
import { startDashboard, type Dashboard } from "./server.ts";

export { startDashboard, checkExposure, type Dashboard, type DashboardOptions } from "./server.ts";

/**
 * The dashboard beside the local default of `npm start` (LOCAL_DASHBOARD). It is a convenience:
 * a busy port only costs a warning, the worker runs on. Serving beyond loopback without a token
 * is a configuration error like any other.
 */
export async function serveLocalDashboard(cfg: Config, conn: UpstashConnection, log: Logger): Promise<Dashboard | null> {
  if (!cfg.LOCAL_DASHBOARD) return null;
  try {
    const dashboard = await startDashboard({ cfg, conn, queueLabel: "local stack", log });
    log.info({ url: dashboard.url }, `dashboard: ${dashboard.url} (LOCAL_DASHBOARD=false turns it off)`);
    return dashboard;
  } catch (err) {
    if (err instanceof WorkerError) throw err;
    log.warn({ err, port: cfg.DASHBOARD_PORT }, "dashboard not started (is DASHBOARD_PORT in use?); the worker runs without it");
    return null;
  }
}
