// regelwerk: the version picker, the point-in-time view and printing a Synopse. The pages work without this
// script; it only opens a comparison from two selects, marks the versions in force on ?stichtag=YYYY-MM-DD,
// and opens the collapsed unchanged passages of a Synopse while it is printed (closing them again after).
(function () {
  "use strict";

  function initPicker(form) {
    var message = form.querySelector(".picker__message");
    var comparisons = null;
    fetch(form.getAttribute("data-versions"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { comparisons = data ? data.comparisons : []; })
      .catch(function () { comparisons = []; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var a = form.elements.a.value;
      var b = form.elements.b.value;
      if (a === b) {
        message.textContent = form.getAttribute("data-same");
        return;
      }
      var found = (comparisons || []).filter(function (c) {
        return (c.from === a && c.to === b) || (c.from === b && c.to === a);
      })[0];
      if (found) {
        window.location.href = found.url;
      } else {
        message.textContent = form.getAttribute("data-missing");
      }
    });
  }

  function initPointInTime(form) {
    var input = form.querySelector("input[name=stichtag]");
    var message = form.querySelector(".pit-form__message");
    var params = new URLSearchParams(window.location.search);
    var date = params.get("stichtag");
    if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
      return;
    }
    input.value = date;
    var first = null;
    var rows = document.querySelectorAll("tr[data-von]");
    Array.prototype.forEach.call(rows, function (row) {
      var from = row.getAttribute("data-von");
      var until = row.getAttribute("data-bis");
      var inForce = from && from <= date && (!until || date <= until);
      row.classList.toggle("is-in-force-on-date", !!inForce);
      if (inForce) {
        row.setAttribute("aria-current", "date");
        if (!first) { first = row; }
      } else {
        row.removeAttribute("aria-current");
      }
    });
    message.textContent = form.getAttribute(first ? "data-found" : "data-none");
    if (first) {
      first.scrollIntoView({ block: "center" });
    }
  }

  function initPrint() {
    var opened = [];
    window.addEventListener("beforeprint", function () {
      Array.prototype.forEach.call(document.querySelectorAll("details.synopse__same"), function (d) {
        if (!d.open) {
          d.open = true;
          opened.push(d);
        }
      });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
  }

  if (document.querySelector("details.synopse__same")) { initPrint(); }
  var picker = document.querySelector("form.picker");
  if (picker) { initPicker(picker); }
  var pit = document.querySelector("form.pit-form");
  if (pit) { initPointInTime(pit); }
})();
