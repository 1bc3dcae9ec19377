// The login page's message for ?failed, ?wait and ?off (set by the server's redirects).
const q = new URLSearchParams(location.search);
const text = q.has("failed")
  ? "Wrong token."
  : q.has("wait")
    ? "Too many wrong tokens: wait a minute."
    : q.has("off")
      ? "Actions are off: no DASHBOARD_TOKEN is set where the dashboard runs."
      : null;
if (text) {
  const p = document.getElementById("login-message");
  p.textContent = text;
  p.className = "error";
}
