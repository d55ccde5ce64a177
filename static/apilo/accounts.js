// Sign-up: suggest the company address (/app/<address>/) from the company name until the user
// edits the address themselves. CSP forbids inline scripts, so this lives here.
(() => {
  const slugify = (text) =>
    text
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/ł/g, "l")
      .replace(/Ł/g, "L")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 50)
      .replace(/-+$/g, "");

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("input[data-slug-from]").forEach((slugInput) => {
      const source = slugInput.form.elements[slugInput.dataset.slugFrom];
      if (!source) return;
      let touched = slugInput.value !== "";
      slugInput.addEventListener("input", () => {
        touched = slugInput.value !== "";
      });
      source.addEventListener("input", () => {
        if (!touched) slugInput.value = slugify(source.value);
      });
    });
  });
})();
