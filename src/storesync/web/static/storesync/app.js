// storesync's only script: the phone menu, confirmations, the chart's scroll position. No third-party code.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".menu-toggle");
  const nav = document.getElementById("nav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // A chart wider than a phone scrolls inside its box: start at the newest day (the right).
  document.querySelectorAll(".chart .scroll").forEach((box) => {
    box.scrollLeft = box.scrollWidth;
  });
  // New product: a variant row asks only for the options that have a name.
  const optionNames = [1, 2, 3].map((n) => document.getElementById(`id_option${n}`));
  if (optionNames.every(Boolean)) {
    const sync = () => optionNames.forEach((input, i) => {
      document.querySelectorAll(`input[name$="-option${i + 1}"]`).forEach((value) => {
        const field = value.closest(".field");
        const label = field && field.querySelector("label");
        if (field) field.hidden = !input.value.trim() && !field.classList.contains("has-error");
        if (label) label.textContent = input.value.trim() || `Option ${i + 1} value`;
      });
    });
    optionNames.forEach((input) => input.addEventListener("input", sync));
    sync();
  }
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
