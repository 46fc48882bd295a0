(function () {
  'use strict';
  // The filters read and write the location hash (#rule=...&account=...),
  // so a filtered view is a link and tests can open one directly.
  var keys = ['account', 'region', 'rule', 'exposure', 'severity'];

  function parseHash() {
    var out = {};
    var h = window.location.hash.replace(/^#/, '');
    h.split('&').forEach(function (part) {
      if (!part) { return; }
      var i = part.indexOf('=');
      var k, v;
      try {
        k = decodeURIComponent(i < 0 ? part : part.slice(0, i));
        v = i < 0 ? '' : decodeURIComponent(part.slice(i + 1).replace(/\+/g, ' '));
      } catch (e) {
        return;
      }
      if (keys.indexOf(k) >= 0 && v) { out[k] = v; }
    });
    return out;
  }

  function toHash(f) {
    return keys.filter(function (k) { return f[k]; }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(f[k]);
    }).join('&');
  }

  function select(k) { return document.getElementById('lw-filter-' + k); }

  function current() {
    var f = {};
    keys.forEach(function (k) {
      var s = select(k);
      if (s && s.value) { f[k] = s.value; }
    });
    return f;
  }

  function apply(f) {
    keys.forEach(function (k) {
      var s = select(k);
      if (s) { s.value = f[k] || ''; }
    });
    var items = document.querySelectorAll('tbody.lw-item');
    var shown = 0;
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var ok = keys.every(function (k) { return !f[k] || el.getAttribute('data-' + k) === f[k]; });
      if (ok) { el.removeAttribute('hidden'); shown++; } else { el.setAttribute('hidden', ''); }
    }
    document.getElementById('lw-visible').textContent = String(shown);
    document.getElementById('lw-empty').hidden = shown !== 0;
  }

  function writeHash(f) {
    var h = toHash(f);
    var url = window.location.href.replace(/#.*$/, '') + (h ? '#' + h : '');
    try {
      window.history.replaceState(null, '', url);
    } catch (e) {
      window.location.hash = h;
    }
  }

  keys.forEach(function (k) {
    var s = select(k);
    if (!s) { return; }
    s.addEventListener('change', function () {
      var f = current();
      apply(f);
      writeHash(f);
    });
  });
  document.getElementById('lw-filter-reset').addEventListener('click', function () {
    apply({});
    writeHash({});
  });
  window.addEventListener('hashchange', function () { apply(parseHash()); });

  // Copy buttons: the Clipboard API where the page is a secure context,
  // else a hidden textarea and execCommand (file:// pages in some
  // browsers).
  function fallbackCopy(text) {
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'lw-offscreen';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      if (ok) { resolve(); } else { reject(new Error('copy failed')); }
    });
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('button.lw-copy') : null;
    if (!b) { return; }
    copy(b.getAttribute('data-copy') || '').then(function () {
      b.textContent = 'Copied';
    }, function () {
      b.textContent = 'Select and copy';
    });
    window.setTimeout(function () { b.textContent = 'Copy'; }, 2000);
  });

  apply(parseHash());
  document.documentElement.setAttribute('data-lw-ready', '1');
}());
