// Countdown of the time left in an access window; the server enforces the end regardless.
document.querySelectorAll("[data-ends-at]").forEach(function (el) {
  var end = Date.parse(el.dataset.endsAt);
  function tick() {
    var left = Math.max(0, Math.floor((end - Date.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    el.textContent = left ? h + "h " + String(m).padStart(2, "0") + "m " + String(s).padStart(2, "0") + "s left" : "Ended";
    if (left) setTimeout(tick, 1000);
  }
  tick();
});
