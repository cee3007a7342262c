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
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
});
