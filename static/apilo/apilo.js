// Small behaviours that CSP forbids inline: submit a <select data-autosubmit> when it changes.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});

// A field's maxlength stops extra letters without a word: when someone types (or pastes) past
// it, the hint element naming that field (data-limit-hint-for) says the rule.
function limitHintOf(input) {
  if (!(input instanceof HTMLInputElement) || input.maxLength < 0 || !input.id) return null;
  return document.querySelector(`[data-limit-hint-for="${CSS.escape(input.id)}"]`);
}

document.addEventListener("beforeinput", (event) => {
  const hint = limitHintOf(event.target);
  if (!hint || !event.data) return;
  const input = event.target;
  const kept = input.value.length - (input.selectionEnd - input.selectionStart);
  if (kept + event.data.length > input.maxLength) hint.textContent = hint.dataset.message;
});

document.addEventListener("input", (event) => {
  const hint = limitHintOf(event.target);
  if (hint && event.target.value.length < event.target.maxLength) hint.textContent = "";
});

// The label page: "Add a parcel" copies the empty parcel row and counts it in the formset.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action=add-parcel]");
  if (!button) return;
  const form = button.closest("form");
  const total = form.querySelector("input[name=parcel-TOTAL_FORMS]");
  const template = form.querySelector("#parcel-template");
  const index = Number(total.value);
  const html = template.innerHTML.replaceAll("__prefix__", String(index)).replace("__num__", String(index + 1));
  const body = form.querySelector("#parcels tbody");
  body.insertAdjacentHTML("beforeend", html);
  // the new row starts as a copy of the first parcel
  const first = body.querySelector("tr.parcel");
  const added = body.lastElementChild;
  first.querySelectorAll("input, select").forEach((field, i) => {
    const target = added.querySelectorAll("input, select")[i];
    if (target) target.value = field.value;
  });
  total.value = String(index + 1);
});
