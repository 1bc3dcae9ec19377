// Queue consumer mode (Upstash, or the local stack): the registry, the consumer, the shutdown.
import type { Config } from "../config/schema.ts";
import type { Logger } from "../log/logger.ts";
import { QueueConsumer, WorkerRegistry, newWorkerId, openQueue, type VoiceQueue } from "../queue/index.ts";
import type { UpstashConnection } from "../queue/redis.ts";
import type { GpuStats } from "../queue/registry.ts";
import { queryNvidiaSmi, visibleGpu } from "../preflight/nvidia-smi.ts";
import { pipelineJobHandler } from "./queue-handler.ts";
import type { Runtime } from "./runtime.ts";
import { VERSION } from "./version.ts";

/** GPU name, memory and utilisation for the registry (nvidia-smi, when the worker uses CUDA). */
export function gpuStatsSource(cfg: Config, runtime: Runtime): () => Promise<GpuStats | null> {
  return async () => {
    if (runtime.engine.info.device !== "cuda") return null; // also after a fall back to CPU
    const r = await queryNvidiaSmi({ bin: cfg.NVIDIA_SMI_BIN, env: process.env, timeoutMs: 3000 });
    const gpu = r.status === "ok" ? visibleGpu(r.gpus, process.env.CUDA_VISIBLE_DEVICES) : undefined;
    return gpu
      ? { name: gpu.name, memory_used_mb: gpu.memoryUsedMiB ?? 0, memory_total_mb: gpu.memoryTotalMiB ?? 0, utilization_pct: gpu.utilizationPct ?? 0 }
      : null;
  };
}

export function consumerFor(
  cfg: Config,
  runtime: Runtime,
  log: Logger,
  queue: VoiceQueue,
  mode: string,
): { consumer: QueueConsumer; registry: WorkerRegistry } {
  const info = runtime.engine.info;
  const registry = new WorkerRegistry(
    queue,
    { id: newWorkerId(), mode, version: VERSION, device: info.device, compute_type: info.compute_type, fallback_reason: info.fallback_reason },
    cfg.WORKER_HEARTBEAT_MS,
    gpuStatsSource(cfg, runtime),
    Date.now,
    () => ({ device: runtime.engine.info.device, compute_type: runtime.engine.info.compute_type, fallback_reason: runtime.engine.info.fallback_reason }),
  );
  const consumer = new QueueConsumer(queue, registry, pipelineJobHandler(runtime.deps), {
    idleMinMs: cfg.IDLE_POLL_MIN_MS,
    idleMaxMs: cfg.IDLE_POLL_MAX_MS,
    log,
  });
  return { consumer, registry };
}

/** Consumes until `stop` fires; the running job may finish within SHUTDOWN_GRACE_MS, else it is handed back. */
export async function runQueueMode(cfg: Config, runtime: Runtime, log: Logger, conn: UpstashConnection, stop: AbortSignal, mode: string): Promise<void> {
  const queue = openQueue(cfg, conn);
  const { consumer, registry } = consumerFor(cfg, runtime, log, queue, mode);
  registry.start((err) => log.warn({ err }, "worker heartbeat failed"));
  stop.addEventListener("abort", () => setTimeout(() => consumer.abortCurrent(), cfg.SHUTDOWN_GRACE_MS).unref(), { once: true });
  log.info({ worker: registry.record.id }, "consuming the queue");
  const counts = await consumer.run(stop);
  log.info({ counts }, "queue consumer stopped");
  await registry.stop();
}
