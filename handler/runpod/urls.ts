/**
 * The platform's URL templates, filled in as the Python SDK does: `$ID` in the job-take URL is
 * the worker id; in the job-done/stream URLs `$RUNPOD_POD_ID` is the worker id and `$ID` the job
 * id. Every occurrence is replaced, and parameters are added with the URL API (the templates
 * already carry a query string such as `?gpu=...`).
 */
export interface RunpodTemplates {
  getJob: string;
  postOutput?: string;
  postStream?: string;
  ping?: string;
}

function withParams(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** Replaces every occurrence of each token, in the order given (the pod id before the job id). */
const fill = (template: string, vars: Record<string, string>) => Object.entries(vars).reduce((t, [k, v]) => t.split(k).join(v), template);

function assertUrl(name: string, url: string): void {
  if (!URL.canParse(url)) throw new Error(`${name} is not a valid URL template`);
}

export class RunpodUrls {
  readonly #takeBase: string;

  constructor(
    private readonly t: RunpodTemplates,
    readonly workerId: string,
  ) {
    this.#takeBase = fill(t.getJob, { $ID: workerId });
    // Fail at start-up, not on the first job, when a template is not a URL.
    assertUrl("RUNPOD_WEBHOOK_GET_JOB", this.#takeBase);
    if (t.postOutput) assertUrl("RUNPOD_WEBHOOK_POST_OUTPUT", fill(t.postOutput, { $RUNPOD_POD_ID: workerId, $ID: "x" }));
    if (t.postStream) assertUrl("RUNPOD_WEBHOOK_POST_STREAM", fill(t.postStream, { $RUNPOD_POD_ID: workerId, $ID: "x" }));
    if (t.ping) assertUrl("RUNPOD_WEBHOOK_PING", fill(t.ping, { $RUNPOD_POD_ID: workerId }));
  }

  /** Job-take: single, or batch (`/job-take-batch/` + `batch_size`) when more than one job is wanted. */
  take(batchSize: number, jobInProgress: boolean): string {
    const params: Record<string, string> = {};
    let base = this.#takeBase;
    if (batchSize > 1) {
      base = base.replace("/job-take/", "/job-take-batch/");
      params.batch_size = String(batchSize);
    }
    params.job_in_progress = jobInProgress ? "1" : "0";
    return withParams(base, params);
  }

  /** Job-stop long poll: the job-take URL with `/job-take/` replaced; null if the template has no such segment. */
  stop(): string | null {
    return this.#takeBase.includes("/job-take/") ? this.#takeBase.replace("/job-take/", "/job-stop/") : null;
  }

  done(jobId: string, isStream: boolean): string {
    if (!this.t.postOutput) throw new Error("RUNPOD_WEBHOOK_POST_OUTPUT is not set");
    return withParams(fill(this.t.postOutput, { $RUNPOD_POD_ID: this.workerId, $ID: encodeURIComponent(jobId) }), { isStream: String(isStream) });
  }

  /** Stream chunk URL; the SDK sends chunks through the same helper, hence `isStream=false` on it too. */
  stream(jobId: string): string | null {
    if (!this.t.postStream) return null;
    return withParams(fill(this.t.postStream, { $RUNPOD_POD_ID: this.workerId, $ID: encodeURIComponent(jobId) }), { isStream: "false" });
  }

  /** Heartbeat URL; `job_id` is left out when no job is held (the SDK's `requests` drops a None parameter). */
  ping(jobIds: readonly string[], runpodVersion: string): string | null {
    if (!this.t.ping) return null;
    const params: Record<string, string> = {};
    if (jobIds.length > 0) params.job_id = jobIds.join(",");
    params.runpod_version = runpodVersion;
    return withParams(fill(this.t.ping, { $RUNPOD_POD_ID: this.workerId }), params);
  }
}
