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
