// The culler's warning in JupyterLab (and any page of the server): asks this server when the hub will stop
// it, shows a banner in the last minutes, and "Keep working" postpones the stop. Asking is marked
// no_track_activity so that the banner itself never keeps an unused server alive.
(function () {
  "use strict";
  var base = document.currentScript.src.replace(/cullbanner\.js(\?.*)?$/, "");
  var banner = null;

  function xsrf() {
    var match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function build() {
    banner = document.createElement("div");
    banner.id = "commonroom-cull-warning";
    banner.setAttribute("role", "alert");
    banner.style.cssText = "position:fixed;top:0;left:50%;transform:translateX(-50%);z-index:100000;" +
      "background:#fff4ce;color:#3b2f00;border:1px solid #d9b44a;border-top:0;border-radius:0 0 6px 6px;" +
      "padding:8px 14px;font:14px system-ui,sans-serif;box-shadow:0 2px 6px rgba(0,0,0,.2)";
    var message = document.createElement("span");
    message.id = "commonroom-cull-message";
    var button = document.createElement("button");
    button.id = "commonroom-keep-working";
    button.textContent = "Keep working";
    button.style.marginLeft = "12px";
    button.addEventListener("click", keep);
    banner.appendChild(message);
    banner.appendChild(button);
    document.body.appendChild(banner);
  }

  function apply(status) {
    if (status.warning) {
      if (!banner) { build(); }
      banner.querySelector("#commonroom-cull-message").textContent = status.warning;
      banner.hidden = false;
    } else if (banner) {
      banner.hidden = true;
    }
    return (status.poll_seconds || 30) * 1000;
  }

  function ask() {
    fetch(base + "cull?no_track_activity=1", {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (status) { setTimeout(ask, apply(status)); })
      .catch(function () { setTimeout(ask, 30000); });
  }

  function keep() {
    fetch(base + "cull", {method: "POST", credentials: "same-origin", headers: {"X-XSRFToken": xsrf()}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) { if (status) { apply(status); } });
  }

  ask();
})();
