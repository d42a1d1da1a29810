/*
 * app.js: small progressive enhancement. Every page works without it.
 *  - [data-confirm] on a button, link or form: asks before going on.
 *  - form.live-filter: submits itself 300 ms after typing pauses.
 */
(function () {
    "use strict";

    document.addEventListener("click", function (ev) {
        var el = ev.target instanceof Element ? ev.target.closest("[data-confirm]") : null;
        if (el && el.tagName !== "FORM" && !window.confirm(el.getAttribute("data-confirm"))) {
            ev.preventDefault();
            ev.stopImmediatePropagation();
        }
    }, true);

    document.addEventListener("submit", function (ev) {
        var form = ev.target;
        if (form instanceof HTMLFormElement && form.hasAttribute("data-confirm") &&
            !window.confirm(form.getAttribute("data-confirm"))) {
            ev.preventDefault();
        }
    }, true);

    var timers = new WeakMap();
    document.addEventListener("input", function (ev) {
        var field = ev.target;
        var form = field && field.form;
        if (!form || !form.classList.contains("live-filter")) {
            return;
        }
        clearTimeout(timers.get(form));
        timers.set(form, setTimeout(function () {
            if (typeof form.requestSubmit === "function") {
                form.requestSubmit();
            } else {
                form.submit();
            }
        }, 300));
    });
})();
