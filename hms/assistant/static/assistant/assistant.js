// The chat widget: clear the box after sending, keep the newest message in view. No inline
// scripts (the Content-Security-Policy forbids them); htmx does the sending.
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.target.closest(".assistant-form");
  if (form && event.detail.successful) {
    form.reset();
    form.querySelector("input[name=text]").focus();
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  const log = event.target.closest(".assistant-log");
  if (log) log.scrollTop = log.scrollHeight;
});
document.addEventListener("shown.bs.collapse", (event) => {
  if (event.target.id === "assistant-panel") document.getElementById("assistant-text").focus();
});
