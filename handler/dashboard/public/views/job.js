// One job: status, history (derived from the record's timestamps: the queue keeps no event log),
// attempts and last error, timings, the transcript with segment times and the stored audio,
// the analysis, and the raw JSON. Refreshes every 2 s until the job is finished.
import { get } from "../api.js";
import { age, badge, bytes, clock, duration, h, kv, mediaTime, progressBar } from "../dom.js";
import { act } from "./dead.js";

const FINAL = new Set(["done", "failed", "dead"]);

export function jobView(ctx, { id }) {
  const body = h("div", {}, h("p", { class: "muted" }, "loading…"));
  const root = h("section", { id: "job" }, h("h2", {}, "Job ", h("span", { class: "mono", id: "job-id" }, id)), body);
  let audio = null; // kept across refreshes so playback is not restarted
  let last = null;
  return {
    root,
    intervalMs: () => (last && FINAL.has(last.status?.state) ? ctx.session.refresh_s * 1000 : Math.min(2000, ctx.session.refresh_s * 1000)),
    async refresh() {
      const { data, commands } = await get(`/api/jobs/${encodeURIComponent(id)}`).catch((err) => {
        if (err.status === 404) return { data: null, commands: 1 };
        throw err;
      });
      last = data;
      if (!data) {
        body.replaceChildren(h("p", { class: "error" }, "No such job (never queued, purged, or its record expired)."));
        return commands;
      }
      if (data.audio.stored && !audio)
        audio = h("audio", { controls: true, preload: "metadata", src: `/api/jobs/${encodeURIComponent(id)}/audio`, id: "job-audio" });
      body.replaceChildren(...render(data, ctx, audio));
      return commands;
    },
  };
}

function render(d, ctx, audio) {
  const s = d.status;
  const r = d.result && typeof d.result === "object" ? d.result : null;
  const out = [];
  out.push(
    h(
      "div",
      { class: "actions" },
      s ? badge(s.state) : badge("no queue record", "gone"),
      s && (s.state === "failed" || s.state === "dead")
        ? [
            h(
              "button",
              {
                type: "button",
                id: "job-retry",
                onclick: () => act(ctx, "retry", { id: d.id }, `Retry job ${d.id}?`, "It goes back to the queue with a fresh attempt count."),
              },
              "Retry",
            ),
            h(
              "button",
              {
                type: "button",
                class: "danger",
                id: "job-purge",
                onclick: () =>
                  act(ctx, "purge", { id: d.id }, `Delete job ${d.id} for good?`, "Its record, result and stored audio are deleted. This cannot be undone."),
              },
              "Purge",
            ),
          ]
        : null,
    ),
  );
  if (r?.fallback_reason) out.push(h("div", { class: "alert" }, h("strong", {}, "⚠ Transcribed on CPU fallback: "), r.fallback_reason));
  const grid = h("div", { class: "grid" });
  if (s) {
    grid.append(
      h(
        "section",
        { class: "card", id: "job-status" },
        h("h3", {}, "Status"),
        kv([
          ["state", s.state],
          ["priority", s.priority],
          ["attempts", String(s.attempts)],
          ["stage", s.stage ? [s.stage, " ", s.state === "active" ? progressBar(s.progress) : null] : undefined],
          ["worker", s.worker],
          ["lease until", s.lease_until && s.state === "active" ? clock(s.lease_until) : undefined],
          ["retry due", s.state === "retrying" ? clock(s.not_before) : undefined],
        ]),
      ),
    );
    grid.append(
      h(
        "section",
        { class: "card", id: "job-error" },
        h("h3", {}, "Last error"),
        s.last_error
          ? kv([
              ["code", h("span", { class: "mono" }, s.last_error.code)],
              ["retryable", s.last_error.retryable ? "yes" : "no"],
              ["message", s.last_error.message],
            ])
          : h("p", { class: "muted" }, "None."),
      ),
    );
    grid.append(
      h(
        "section",
        { class: "card", id: "job-history" },
        h("h3", {}, "History"),
        h(
          "table",
          {},
          h(
            "tbody",
            {},
            d.history.map((e) => h("tr", {}, h("td", { class: "time" }, clock(e.at)), h("td", {}, badge(e.event, e.event)), h("td", {}, e.detail))),
          ),
        ),
        h(
          "p",
          { class: "muted" },
          "The queue keeps the latest of each timestamp, not an event log: earlier attempts leave only the attempt count and the last error.",
        ),
      ),
    );
  }
  grid.append(timingsCard(d, r));
  out.push(grid);
  out.push(audioCard(d, audio));
  out.push(transcriptCard(r, audio, s?.state));
  out.push(analysisCard(r));
  out.push(
    h(
      "section",
      { class: "card" },
      h(
        "details",
        { id: "job-raw" },
        h("summary", {}, "Raw JSON (secrets and URL queries removed)"),
        h("pre", { class: "raw" }, JSON.stringify({ status: d.status, payload: d.payload, result: d.result }, null, 2)),
      ),
    ),
  );
  return out;
}

function timingsCard(d, r) {
  const t = r?.timings ?? {};
  const q = d.queue_timings ?? {};
  return h(
    "section",
    { class: "card", id: "job-timings" },
    h("h3", {}, "Timings"),
    kv([
      ["waited in queue", duration(q.waited_ms)],
      ["claim to finish", duration(q.ran_ms)],
      ["enqueue to finish", duration(q.total_ms)],
      ["download", r ? duration(t.download_ms) : undefined],
      ["decode", r ? duration(t.decode_ms) : undefined],
      ["transcribe", r ? duration(t.transcribe_ms) : undefined],
      ["analyze", r ? duration(t.analyze_ms) : undefined],
      ["worker total", r ? duration(t.total_ms) : undefined],
      ["audio", r?.audio_duration_s !== undefined ? `${r.audio_duration_s} s` : undefined],
      ["device", r ? `${r.device ?? "?"} ${r.compute_type ?? ""}` : undefined],
      ["fallback_reason", r ? (r.fallback_reason ? h("span", { class: "error" }, r.fallback_reason) : "none") : undefined],
    ]),
  );
}

function audioCard(d, audio) {
  const a = d.audio;
  if (!a.stored) {
    const why = d.status?.state === "done" ? "stored audio is deleted when a job completes" : "pushed as a URL or inline, or its AUDIO_TTL_S ran out";
    return h("section", { class: "card", id: "job-audio-card" }, h("h3", {}, "Audio"), h("p", { class: "muted" }, `Not stored (${why}).`));
  }
  return h(
    "section",
    { class: "card", id: "job-audio-card" },
    h("h3", {}, "Audio"),
    audio,
    h("p", { class: "muted" }, `${bytes(a.bytes)} stored with the job${a.expires_in_ms ? `, kept for another ${age(a.expires_in_ms)}` : ""}.`),
  );
}

function transcriptCard(r, audio, state) {
  const none = state === "failed" || state === "dead" ? "No result: the job is in the dead letter." : "No result yet.";
  if (!r) return h("section", { class: "card", id: "job-transcript" }, h("h3", {}, "Transcript"), h("p", { class: "muted" }, none));
  const segs = Array.isArray(r.segments) ? r.segments : [];
  const seek = (t) => () => {
    if (audio) {
      audio.currentTime = t;
      void audio.play().catch(() => undefined);
    }
  };
  return h(
    "section",
    { class: "card", id: "job-transcript" },
    h("h3", {}, "Transcript", r.detected_language ? h("span", { class: "muted" }, ` · language ${r.detected_language}`) : ""),
    h("div", { class: "transcript-text", id: "transcript-text" }, typeof r.transcription === "string" ? r.transcription : ""),
    segs.length
      ? h(
          "table",
          { id: "segments" },
          h("thead", {}, h("tr", {}, h("th", {}, "time"), h("th", {}, "text"))),
          h(
            "tbody",
            {},
            segs.map((g) =>
              h(
                "tr",
                {},
                h(
                  "td",
                  { class: "time" },
                  audio
                    ? h("button", { type: "button", onclick: seek(g.start), title: "play from here" }, `${mediaTime(g.start)} – ${mediaTime(g.end)}`)
                    : `${mediaTime(g.start)} – ${mediaTime(g.end)}`,
                ),
                h("td", {}, g.text),
              ),
            ),
          ),
        )
      : null,
    r.translation ? [h("h3", {}, "Translation"), h("div", { class: "transcript-text" }, r.translation)] : null,
  );
}

function analysisCard(r) {
  const card = h(
    "section",
    { class: "card", id: "job-analysis" },
    h("h3", {}, "Analysis", r?.analysis_model ? h("span", { class: "muted" }, ` · ${r.analysis_model}`) : ""),
  );
  const a = r?.analysis;
  if (!r) card.append(h("p", { class: "muted" }, "No result yet."));
  else if (r.analysis_skipped) card.append(h("p", { class: "muted" }, `Skipped: ${r.analysis_skipped}.`));
  else if (r.analysis_error)
    card.append(
      kv([
        ["error", r.analysis_error.code],
        ["retryable", r.analysis_error.retryable ? "yes" : "no"],
        ["message", r.analysis_error.message],
      ]),
    );
  else if (!a || typeof a !== "object") card.append(h("p", { class: "muted" }, "None."));
  else {
    card.append(
      kv([
        ["title", a.title],
        ["summary", a.summary],
        ["category", a.category],
        ["sentiment", a.sentiment],
        ["urgency", a.urgency],
        ["language", a.language],
        [
          "action items",
          Array.isArray(a.action_items) && a.action_items.length
            ? h(
                "ul",
                {},
                a.action_items.map((i) => h("li", {}, i.text, i.due ? ` (due ${i.due})` : "")),
              )
            : "none",
        ],
        [
          "key points",
          Array.isArray(a.key_points) && a.key_points.length
            ? h(
                "ul",
                {},
                a.key_points.map((p) => h("li", {}, p)),
              )
            : "none",
        ],
      ]),
    );
  }
  return card;
}
