// Keeps the open page current: fetches the same URL every few seconds and swaps in its <main id="live">.
// The server renders (and encodes) everything; this script only moves server-made markup, never data.
(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live) return;
  var interval = Number(live.getAttribute('data-refresh-ms')) || 2000;

  // Antiforgery tokens differ on every answer: compare without them, so an unchanged page is left alone.
  function withoutTokens(element) {
    var copy = element.cloneNode(true);
    copy.querySelectorAll('input[type=hidden]').forEach(function (input) { input.removeAttribute('value'); });
    return copy.innerHTML;
  }

  // Never pull a form from under the user.
  function isBusy() {
    var focused = document.activeElement;
    return focused !== null && focused !== document.body && focused.closest('form') !== null;
  }

  function refresh() {
    if (document.hidden || isBusy()) return;
    fetch(location.href, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('live');
        if (fresh && withoutTokens(fresh) !== withoutTokens(live)) live.innerHTML = fresh.innerHTML;
      })
      .catch(function () { /* the next tick tries again */ });
  }

  setInterval(refresh, interval);
})();
