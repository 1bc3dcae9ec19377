// Push a voice message: drop a file (or choose one) or paste a URL, pick options, push; then the
// job page shows it going through. The server queues it exactly as `npm run queue -- push` does.
import { post, postFile } from "../api.js";
import { bytes, h, jobHref } from "../dom.js";

export function pushView(ctx) {
  let file = null;
  const chosen = h("div", { class: "muted", id: "chosen-file" }, "No file chosen.");
  const fileInput = h("input", { type: "file", id: "file-input", accept: "audio/*,.ogg,.opus,.m4a,.webm,.mp3,.wav,.flac,.amr" });
  const choose = (f) => {
    file = f ?? null;
    chosen.textContent = file ? `${file.name} (${bytes(file.size)})` : "No file chosen.";
  };
  fileInput.addEventListener("change", () => choose(fileInput.files[0]));
  const drop = h("div", { id: "dropzone" }, h("p", {}, "Drop an audio file here, or "), fileInput, chosen);
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    choose(e.dataTransfer?.files?.[0]);
  });
  const field = (label, input) => h("label", {}, label, input);
  const url = h("input", { type: "url", name: "url", id: "push-url", placeholder: "https://example.com/voice.ogg", size: 60 });
  const priority = h(
    "select",
    { name: "priority", id: "push-priority" },
    ["normal", "high", "low"].map((p) => h("option", { value: p }, p)),
  );
  const id = h("input", { name: "id", id: "push-id", placeholder: "random when empty" });
  const language = h("input", { name: "language", placeholder: "detect", size: 6 });
  const model = h("input", { name: "model", placeholder: "worker default" });
  const format = h(
    "select",
    { name: "transcription" },
    ["plain_text", "formatted_text", "srt", "vtt"].map((f) => h("option", { value: f }, f)),
  );
  const words = h("input", { type: "checkbox", name: "word_timestamps" });
  const analysis = h("input", { type: "checkbox", name: "llm", checked: true });
  const advanced = h("textarea", { name: "options", id: "push-options", placeholder: '{"initial_prompt": "Invoice numbers"}' });
  const submit = h("button", { type: "submit", class: "primary", id: "push-submit" }, "Push");
  const form = h(
    "form",
    { id: "push-form", class: "card" },
    drop,
    field("or an audio URL (the worker downloads it)", url),
    h(
      "div",
      { class: "push-grid" },
      field("priority", priority),
      field("job id", id),
      field("language", language),
      field("model", model),
      field("transcription", format),
      h("label", { class: "check" }, words, "word timestamps"),
      h("label", { class: "check" }, analysis, "analysis (Gemini)"),
    ),
    field("more options (JSON object, merged over the fields above)", advanced),
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let options;
    try {
      options = { ...(advanced.value.trim() ? JSON.parse(advanced.value) : {}) };
    } catch {
      return ctx.notify("More options: not a JSON object.", true);
    }
    const fromFields = {
      transcription: format.value === "plain_text" ? undefined : format.value,
      language: language.value.trim() || undefined,
      model: model.value.trim() || undefined,
      word_timestamps: words.checked || undefined,
      llm: analysis.checked ? undefined : { enabled: false },
    };
    for (const [k, v] of Object.entries(fromFields)) if (v !== undefined && !(k in options)) options[k] = v;
    if (!file && !url.value.trim()) return ctx.notify("Choose or drop a file, or give a URL.", true);
    submit.disabled = true;
    try {
      const meta = { priority: priority.value, id: id.value.trim(), options: JSON.stringify(options) };
      const { data } = file
        ? await postFile("/api/push", file, meta)
        : await post("/api/push", { url: url.value.trim(), priority: priority.value, id: id.value.trim() || undefined, options });
      ctx.notify(data.created ? `Queued ${data.id}.` : `Already known: ${data.id} (${data.state}).`);
      ctx.go(jobHref(data.id));
    } catch (err) {
      ctx.notify(`Refused (${err.status ?? "error"} ${err.code ?? ""}): ${err.message}`, true);
    } finally {
      submit.disabled = false;
    }
  });
  return { root: h("section", { id: "push" }, h("h2", {}, "Push a voice message"), form) };
}
