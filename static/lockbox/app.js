// Countdown of the time left in an access window; the server enforces the end regardless.
// A page left open asks the server every 15 s whether the access is still open, so a revoke
// (or any early end) stops the countdown and says why.
var STATE_POLL_MS = 15000;
document.querySelectorAll("[data-ends-at]").forEach(function (el) {
  var end = Date.parse(el.dataset.endsAt), ended = false;
  function tick() {
    if (ended) return;
    var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = left ? h + "h " + String(m).padStart(2, "0") + "m " + String(s).padStart(2, "0") + "s left" : "Ended";
    if (left) setTimeout(tick, 1000);
  }
  function poll() {
    if (ended || !el.dataset.stateUrl) return;
    fetch(el.dataset.stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && !state.open) {
          ended = true;
          el.setAttribute("role", "status");
          el.classList.add("ended");
          el.textContent = state.message;
        } else {
          setTimeout(poll, STATE_POLL_MS);
        }
      })
      .catch(function () { setTimeout(poll, STATE_POLL_MS); });
  }
  tick();
  setTimeout(poll, STATE_POLL_MS);
});

// Confirmation before a consequential action: a form with data-confirm opens the page's native
// <dialog> (focus kept inside, Esc cancels) and submits, with the button pressed, only on "Yes".
(function () {
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog) return;
  var pending = null;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-confirm") || form.dataset.confirmed === "yes") return;
    var box = form.dataset.confirmUnchecking && document.getElementById(form.dataset.confirmUnchecking);
    // Only turning a switch off needs asking: saving other settings does not.
    if (form.dataset.confirmUnchecking && !(box && box.defaultChecked && !box.checked)) return;
    event.preventDefault();
    pending = { form: form, submitter: event.submitter };
    document.getElementById("confirm-title").textContent = form.dataset.confirmTitle || "Are you sure?";
    document.getElementById("confirm-text").textContent = form.dataset.confirm;
    document.getElementById("confirm-yes").textContent = form.dataset.confirmButton || "Yes";
    dialog.showModal();
  });
  document.getElementById("confirm-yes").addEventListener("click", function () {
    var action = pending;
    pending = null;
    dialog.close();
    if (!action) return;
    action.form.dataset.confirmed = "yes";
    action.form.requestSubmit(action.submitter || undefined);
  });
  document.getElementById("confirm-no").addEventListener("click", function () {
    pending = null;
    dialog.close();
  });
})();

// The browser's time zone, for the server to render dates in (UTC until it is known).
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  // IANA names (Europe/Paris) are cookie-safe as they are; the server checks them anyway.
  if (zone) document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
})();

// A click anywhere on a queue row opens its request, as the row's own link does.
document.querySelectorAll("table.queue tr.row").forEach(function (row) {
  row.addEventListener("click", function (event) {
    if (event.target.closest("a, button, input, label, select, textarea")) return;
    var link = row.querySelector("a[href]");
    if (link) window.location.href = link.href;
  });
});

// On a phone the navigation folds behind a Menu button (without script it stays open).
(function () {
  document.documentElement.classList.add("js");
  var button = document.querySelector(".menu-toggle"), nav = document.getElementById("side-nav");
  if (!button || !nav) return;
  button.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// Searchable multi-selects (audit search): typing narrows the list; the summary counts choices.
document.querySelectorAll("details.multiselect").forEach(function (box) {
  var search = box.querySelector(".ms-search"), count = box.querySelector(".ms-count");
  search.addEventListener("input", function () {
    var words = search.value.trim().toLowerCase();
    box.querySelectorAll(".ms-opt").forEach(function (option) {
      option.hidden = words !== "" && option.textContent.toLowerCase().indexOf(words) === -1;
    });
  });
  // Enter in the search box narrows; it must not submit the whole search form.
  search.addEventListener("keydown", function (event) { if (event.key === "Enter") event.preventDefault(); });
  box.addEventListener("change", function () {
    var n = box.querySelectorAll("input[type=checkbox]:checked").length;
    count.textContent = n ? n + " selected" : count.dataset.all;
  });
});

// "Copy secret": the webhook's signing secret, shown once, onto the clipboard.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var source = document.getElementById(button.dataset.copy);
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    }, function () {
      button.textContent = "Select and copy the secret by hand";
    });
  });
});

// A table wider than a phone scrolls sideways; keyboard users reach that scroll by focusing it.
function focusableWhenScrolling() {
  document.querySelectorAll("main table").forEach(function (table) {
    if (table.scrollWidth > table.clientWidth + 1) table.setAttribute("tabindex", "0");
    else table.removeAttribute("tabindex");
  });
}
focusableWhenScrolling();
window.addEventListener("resize", focusableWhenScrolling);
