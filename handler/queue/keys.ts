/**
 * Every key shares one hash tag, `{prefix}`, so the scripts may touch any job's keys and the
 * layout stays valid on clustered Redis too.
 */
export function keyPrefix(prefix: string): string {
  return `{${prefix}}:`;
}

export const setOfState = {
  queued: "ready",
  retrying: "delayed",
  active: "leases",
  dead: "dead",
  failed: "dead",
  done: "done",
} as const;
