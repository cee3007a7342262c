// storesync's only script: the phone menu, confirmations, the chart's scroll position, the
// progress of an import job and the upload's size check. No third-party code.
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
  // An import's page: poll its status and move the progress bar; reload once it has ended,
  // so that the outcome and every problem are drawn by the server.
  const job = document.getElementById("job");
  if (job && job.dataset.finished === "false") {
    const bar = job.querySelector("[data-job=bar]");
    const text = job.querySelector("[data-job=text]");
    const state = job.querySelector("[data-job=state]");
    const every = Number(job.dataset.pollMs) || 1000;
    const show = (s) => {
      state.textContent = s.state.charAt(0).toUpperCase() + s.state.slice(1);
      state.className = `status ${s.state}`;
      if (s.total) {
        bar.max = s.total;
        bar.value = s.done;
        text.textContent = `${s.stage.charAt(0).toUpperCase() + s.stage.slice(1)}: ${s.done} of ${s.total} rows`;
      } else if (s.state === "running") {
        bar.removeAttribute("value");  // indeterminate while the rows are being counted
        text.textContent = s.stage ? `${s.stage.charAt(0).toUpperCase() + s.stage.slice(1)}: ${s.done} rows read` : "Starting…";
      }
      bar.textContent = `${s.percent || 0}%`;
    };
    const poll = () => {
      fetch(job.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
        .then((s) => {
          show(s);
          if (s.finished) window.location.reload();
          else window.setTimeout(poll, every);
        })
        .catch(() => window.setTimeout(poll, every * 5));  // the server restarting: keep trying, slower
    };
    window.setTimeout(poll, every);
  }
  // Upload forms: say at once when a file is over the limit, instead of after the upload.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach((input) => {
    const warning = input.closest(".field") && input.closest(".field").querySelector("[data-size-error]");
    input.addEventListener("change", () => {
      const tooBig = Array.from(input.files || []).some((f) => f.size > Number(input.dataset.maxBytes));
      input.setCustomValidity(tooBig ? "This file is larger than the limit." : "");
      if (warning) warning.hidden = !tooBig;
    });
    input.form.addEventListener("submit", (event) => {
      if (!input.checkValidity()) event.preventDefault();
    });
  });
});
