/* storesync consent banner: own code, no third-party requests, no cookies.
 *
 * Embed:  <script src="https://ops.example.com/static/storesync/consent-banner.js"
 *                 data-shop="SLUG" data-key="PUBLIC_KEY" data-api="https://ops.example.com" defer></script>
 *
 * Nothing is stored in the browser until the visitor chooses. The choice (and a random visitor
 * id that lets the shop prove it) is then kept in localStorage: storage strictly needed to
 * remember the choice. "Reject all" is the same size and style as "Accept all" (withdrawing is
 * as easy as giving), and the choices can be reopened from any element marked
 * data-storesync-consent-open. A browser sending Global Privacy Control never has
 * sale/sharing switched on.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-shop][data-key]");
  if (!script) { return; }
  var shop = script.getAttribute("data-shop");
  var key = script.getAttribute("data-key");
  var api = (script.getAttribute("data-api") || "").replace(/\/$/, "");
  var storageKey = "storesync-consent:" + shop;
  var PURPOSES = [
    ["analytics", "Analytics", "Count visits and see which pages work, to improve the shop."],
    ["personalisation", "Personalisation", "Recommend products based on what you viewed."],
    ["marketing", "Marketing", "Send offers by email or message, and measure them."],
    ["sale_share", "Sharing with advertising partners", "Share data with partners for ads (a 'sale' or 'sharing' under some laws)."]
  ];
  var gpc = navigator.globalPrivacyControl === true;
  var listeners = [];

  function stored() {
    try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); }
    catch (e) { return null; }
  }

  function visitorId() {
    var saved = stored();
    if (saved && saved.visitor_id) { return saved.visitor_id; }
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function endpoint() {
    return api + "/privacy/" + encodeURIComponent(shop) + "/consent?key=" + encodeURIComponent(key);
  }

  function allows(purpose) {
    if (purpose === "necessary") { return true; }
    var saved = stored();
    if (!saved || !saved.choices) { return false; }
    if (purpose === "sale_share" && gpc) { return false; }
    return saved.choices[purpose] === "granted";
  }

  function save(choices) {
    var id = visitorId();
    if (gpc) { choices.sale_share = "withdrawn"; }
    var record = { visitor_id: id, choices: choices, at: new Date().toISOString() };
    try { window.localStorage.setItem(storageKey, JSON.stringify(record)); } catch (e) { /* private mode */ }
    listeners.forEach(function (fn) { fn(record.choices); });
    document.dispatchEvent(new CustomEvent("storesync:consent", { detail: record.choices }));
    return fetch(endpoint(), {
      method: "POST", mode: "cors", credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ visitor_id: id, choices: choices })
    }).catch(function () { /* the choice is applied locally; the ledger catches up next time */ });
  }

  function all(state) {
    var choices = {};
    PURPOSES.forEach(function (p) { choices[p[0]] = state; });
    return choices;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function close(banner, opener) {
    banner.remove();
    if (opener && opener.focus) { opener.focus(); }
  }

  function show(opener) {
    if (document.getElementById("storesync-consent")) { return; }
    var saved = stored();
    var banner = el("section", { id: "storesync-consent", "class": "ssc-banner", role: "region",
                                 "aria-labelledby": "ssc-title", "aria-describedby": "ssc-text" });
    banner.appendChild(el("h2", { id: "ssc-title", "class": "ssc-title" }, "Your privacy choices"));
    var text = el("p", { id: "ssc-text" },
      "This shop uses storage that is strictly needed to work. With your permission it would also " +
      "use your data for the purposes below. You can change your mind at any time. ");
    var link = el("a", { href: api + "/privacy/" + encodeURIComponent(shop) + "/policy" }, "Privacy policy");
    text.appendChild(link);
    banner.appendChild(text);
    if (gpc) {
      banner.appendChild(el("p", { "class": "ssc-gpc" },
        "Your browser sends Global Privacy Control: your data is not sold or shared for advertising."));
    }
    var details = el("fieldset", { "class": "ssc-purposes", hidden: "" });
    details.appendChild(el("legend", {}, "Choose purposes"));
    PURPOSES.forEach(function (p) {
      var id = "ssc-" + p[0];
      var row = el("div", { "class": "ssc-row" });
      var box = el("input", { type: "checkbox", id: id, name: p[0] });
      box.checked = !!(saved && saved.choices && saved.choices[p[0]] === "granted");
      if (p[0] === "sale_share" && gpc) { box.checked = false; box.disabled = true; }
      var label = el("label", { "for": id }, p[1]);
      row.appendChild(box);
      row.appendChild(label);
      row.appendChild(el("span", { "class": "ssc-hint" }, p[2]));
      details.appendChild(row);
    });
    banner.appendChild(details);
    var buttons = el("div", { "class": "ssc-buttons" });
    var reject = el("button", { type: "button", "class": "ssc-button", id: "ssc-reject" }, "Reject all");
    var accept = el("button", { type: "button", "class": "ssc-button", id: "ssc-accept" }, "Accept all");
    var choose = el("button", { type: "button", "class": "ssc-button ssc-secondary", id: "ssc-choose",
                                "aria-expanded": "false" }, "Choose");
    reject.addEventListener("click", function () { save(all("withdrawn")); close(banner, opener); });
    accept.addEventListener("click", function () { save(all("granted")); close(banner, opener); });
    choose.addEventListener("click", function () {
      if (details.hidden) {
        details.hidden = false;
        choose.textContent = "Save my choices";
        choose.setAttribute("aria-expanded", "true");
        details.querySelector("input").focus();
        return;
      }
      var choices = {};
      PURPOSES.forEach(function (p) {
        choices[p[0]] = document.getElementById("ssc-" + p[0]).checked ? "granted" : "withdrawn";
      });
      save(choices);
      close(banner, opener);
    });
    buttons.appendChild(reject);
    buttons.appendChild(accept);
    buttons.appendChild(choose);
    banner.appendChild(buttons);
    banner.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { close(banner, opener); }  /* no choice: nothing allowed */
    });
    document.body.appendChild(banner);
    reject.focus();
  }

  function init() {
    var css = el("link", { rel: "stylesheet", href: script.src.replace(/\.js(\?.*)?$/, ".css") });
    document.head.appendChild(css);
    document.addEventListener("click", function (event) {
      var target = event.target.closest && event.target.closest("[data-storesync-consent-open]");
      if (target) { event.preventDefault(); show(target); }
    });
    var saved = stored();
    if (!saved) { show(null); return; }
    if (gpc && saved.choices && saved.choices.sale_share !== "withdrawn") {
      saved.choices.sale_share = "withdrawn";
      save(saved.choices);  /* the browser sends Sec-GPC: 1, which the server records too */
    }
  }

  window.storesyncConsent = {
    allows: allows,
    open: function () { show(document.activeElement); },
    onChange: function (fn) { listeners.push(fn); }
  };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
}());
