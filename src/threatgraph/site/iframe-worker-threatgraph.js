/* threatgraph: Web Workers for a site opened as files (file://), where browsers refuse to start
   them, so that search works offline. The worker's script runs in a hidden iframe of the same
   page; messages cross by direct calls. Written for threatgraph; named so that mkdocs-material's
   offline plugin uses it instead of fetching its own shim from a CDN. Nothing here loads
   anything but the worker script the page names. */
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  function FileWorker(url) {
    var outer = this, listeners = [], inbox = [], handlers = [], loaded = false;
    var frame = document.createElement("iframe");
    frame.setAttribute("aria-hidden", "true");
    frame.style.display = "none";
    (document.body || document.documentElement).appendChild(frame);
    var inner = frame.contentWindow;
    inner.addEventListener = function (type, fn) { if (type === "message") handlers.push(fn); };
    inner.postMessage = function (data) {
      setTimeout(function () {
        var event = { data: data };
        if (typeof outer.onmessage === "function") outer.onmessage(event);
        listeners.forEach(function (fn) { fn(event); });
      }, 0);
    };
    inner.importScripts = function () { throw new Error("importScripts is not available offline"); };
    this.postMessage = function (data) {
      if (!loaded) { inbox.push(data); return; }
      setTimeout(function () { handlers.forEach(function (fn) { fn({ data: data }); }); }, 0);
    };
    this.addEventListener = function (type, fn) { if (type === "message") listeners.push(fn); };
    this.removeEventListener = function (type, fn) {
      listeners = listeners.filter(function (f) { return f !== fn; });
    };
    this.terminate = function () { frame.remove(); };
    var doc = inner.document;
    var script = doc.createElement("script");
    script.src = new URL(url, location.href).href;
    script.onload = function () { loaded = true; inbox.splice(0).forEach(outer.postMessage); };
    (doc.head || doc.documentElement).appendChild(script);
  }

  window.Worker = FileWorker;
})();
