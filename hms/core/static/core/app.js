// Behaviour shared by every page. No inline scripts: the Content-Security-Policy forbids them.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
// The patient picker (patients/widgets/patient_picker.html): a chosen patient's MRN fills the box.
document.addEventListener("click", (event) => {
  const choice = event.target.closest("[data-pick]");
  if (!choice) return;
  const picker = choice.closest(".patient-picker");
  const input = picker.querySelector("input");
  input.value = choice.dataset.pick;
  const chosen = document.createElement("div");
  chosen.className = "form-text text-success";
  chosen.textContent = "Chosen: " + choice.dataset.pickLabel;
  picker.querySelector(".patient-picker-choices").replaceChildren(chosen);
  input.focus();
});
