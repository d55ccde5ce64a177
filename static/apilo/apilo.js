// Small behaviours that CSP forbids inline: submit a <select data-autosubmit> when it changes.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) {
    event.target.form.submit();
  }
});
