// How a failed attempt is turned into the error a job gets, and when it means "CUDA is broken
// in this process" (then the engine restarts on CPU and retries the job once).
import { WorkerError } from "../errors.ts";
import { SidecarExit, SidecarReplyError, type ExitInfo } from "./sidecar-process.ts";
import type { Device } from "./types.ts";

export interface Failure {
  error: WorkerError;
  /** Set when the failure shows the CUDA stack is unusable: the CPU fallback reason. */
  cudaReason: string | null;
  /** The sidecar is gone (or must go): start a fresh one. */
  restart: boolean;
}

// Sidecar error codes that condemn CUDA for the rest of this process. cuda_oom does not:
// memory pressure passes, and the job is retried by the queue.
const CUDA_FATAL_CODES = new Set(["cuda_error", "compute_type_unsupported"]);

/** The most telling stderr line of a crash (the cuDNN/cuBLAS loader message, if any). */
export function crashHint(stderrTail: string): string | null {
  const lines = stderrTail
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const reversed = [...lines].reverse();
  // A line naming a shared object ("Unable to load any of {libcudnn_ops.so.9...}") says the most.
  const hit = reversed.find((l) => /lib\w+\.so/.test(l)) ?? reversed.find((l) => /cudnn|cublas|cuda|driver/i.test(l));
  return hit ? hit.slice(0, 300) : null;
}

export function describeExit(exit: ExitInfo): string {
  if (exit.spawnError) return exit.spawnError;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

export function isAbort(exit: ExitInfo): boolean {
  return exit.signal === "SIGABRT" || exit.code === 134;
}

export function classifyFailure(err: unknown, device: Device): Failure {
  if (err instanceof WorkerError) return { error: err, cudaReason: null, restart: false };
  if (err instanceof SidecarReplyError) {
    const cuda = device === "cuda" && CUDA_FATAL_CODES.has(err.code);
    return {
      error: new WorkerError(err.code, `speech engine: ${err.message}`, { retryable: err.retryable }),
      cudaReason: cuda ? `${err.code}: ${err.message}` : null,
      restart: cuda,
    };
  }
  if (err instanceof SidecarExit) {
    const hint = crashHint(err.exit.stderrTail);
    const how = describeExit(err.exit);
    if (device === "cuda" && isAbort(err.exit)) {
      return {
        error: new WorkerError("cuda_abort", `the speech sidecar aborted on CUDA (${how})${hint ? `: ${hint}` : ""}`, { retryable: true }),
        cudaReason: `cuda_abort: the sidecar died with ${how} while running on CUDA${hint ? ` (${hint})` : ""}`,
        restart: true,
      };
    }
    return {
      error: new WorkerError("sidecar_crashed", `the speech sidecar died during the job (${how})${hint ? `: ${hint}` : ""}`, {
        retryable: true,
        details: { signal: err.exit.signal, exitCode: err.exit.code },
      }),
      cudaReason: null,
      restart: true,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { error: new WorkerError("internal_error", message, { retryable: true, cause: err }), cudaReason: null, restart: false };
}
