// Order list: a header checkbox [data-select-all="name"] ticks every row checkbox of that name
// (also the rows htmx swapped in since). No inline script: CSP allows 'self' only.
document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-all]");
  if (!all) return;
  const name = all.getAttribute("data-select-all");
  document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
    box.checked = all.checked;
  });
});
