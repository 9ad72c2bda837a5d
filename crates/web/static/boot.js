// Loaded first on every page: keeps the page's script errors and Content-Security-Policy
// refusals in window.__errs, where the browser tests (and a support person's console) read them.
(function () {
  "use strict";
  window.__errs = [];
  addEventListener("error", function (e) { window.__errs.push(String(e.message || e)); });
  addEventListener("securitypolicyviolation", function (e) {
    window.__errs.push("CSP " + e.violatedDirective + " refused " + (e.blockedURI || "inline code"));
  });
})();
