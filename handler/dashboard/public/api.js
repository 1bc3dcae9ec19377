// The JSON API, as the page calls it: same-origin, the session cookie, and for actions the
// header that tells the server this came from the page (part of the CSRF defence).
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(path, init = {}) {
  const res = await fetch(path, { credentials: "same-origin", cache: "no-store", ...init });
  const commands = Number(res.headers.get("x-upstash-commands") ?? 0);
  const body = res.headers.get("content-type")?.startsWith("application/json") ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, body?.error?.code ?? "http_error", body?.error?.message ?? `HTTP ${res.status}`);
  return { data: body, commands };
}

export const get = (path) => call(path);

const ACTION_HEADERS = { "x-requested-with": "voice-worker-dashboard" };

export function post(path, body) {
  return call(path, { method: "POST", headers: { ...ACTION_HEADERS, "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** A file goes up as the raw body; its options ride in the query string. */
export function postFile(path, file, query) {
  const qs = new URLSearchParams(query).toString();
  return call(`${path}?${qs}`, { method: "POST", headers: { ...ACTION_HEADERS, "content-type": "application/octet-stream" }, body: file });
}
