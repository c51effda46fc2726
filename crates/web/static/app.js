// The UI's only script, served from /static/app.js so that the Content-Security-Policy can
// refuse every inline script (script-src 'self'). Each part does nothing on pages without its
// elements.
(function () {
  'use strict';

  // The talk track's print button (no javascript: link, which the policy would refuse).
  document.addEventListener('click', function (e) {
    var t = e.target;
    if (t && t.closest && t.closest('[data-action="print"]')) {
      e.preventDefault();
      window.print();
    }
  });

  // The inbox (its filter form is on the page even when no request is listed).
  if (!document.getElementById('filters')) { return; }
  // Keyboard triage: j/k move, / searches, a accept, d defer, x decline, u duplicate, i needs info.
  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) {
      if (e.key === 'Escape') { t.blur(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var rows = Array.prototype.slice.call(document.querySelectorAll('#inbox tbody tr[data-href]'));
    var cur = rows.findIndex(function (r) { return r.classList.contains('selected'); });
    function go(i) { if (rows[i]) { location.href = rows[i].getAttribute('data-href'); } }
    function pick(d, focus) {
      var s = document.getElementById('decision');
      if (!s) { return; }
      s.value = d;
      var f = document.getElementById(focus);
      if (f) { f.focus(); }
      e.preventDefault();
    }
    switch (e.key) {
      case 'j': go(cur + 1); break;
      case 'k': go(Math.max(cur - 1, 0)); break;
      case '/': document.getElementById('q').focus(); e.preventDefault(); break;
      case 'a': pick('accepted', 'feature_id'); break;
      case 'd': pick('deferred', 'reason'); break;
      case 'x': pick('declined', 'reason'); break;
      case 'u': pick('duplicate', 'duplicate_of'); break;
      case 'i': pick('needs_info', 'reason'); break;
    }
  });
})();
