// regelwerk: live reload for `regelwerk serve`. Only the preview adds this script to its pages (served at
// /__regelwerk/livereload.js); a built or published site never contains it. The page's content is from build N
// (?build=N in this script's address); the server sends "build M" over the websocket (opened with the page's
// path) on connect and whenever the content of this page changes, and the page reloads when M differs. After
// the server stops, it tries again, at most every 5 seconds.
(function () {
  "use strict";

  var script = document.currentScript;
  var shown = script ? new URL(script.src, window.location.href).searchParams.get("build") : null;
  var delay = 500;

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(
      scheme + window.location.host + "/__regelwerk/livereload?seite=" +
        encodeURIComponent(window.location.pathname)
    );
    socket.addEventListener("open", function () {
      delay = 500;
    });
    socket.addEventListener("message", function (event) {
      var match = /^build (\d+)$/.exec(String(event.data));
      if (match && match[1] !== shown) {
        window.location.reload();
      }
    });
    socket.addEventListener("close", function () {
      window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, 5000);
    });
  }

  connect();
})();
