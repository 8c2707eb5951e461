"""The JavaScript rendered mode runs inside pages: kept here, apart from the Python that drives it.

* `INIT_SCRIPT` runs before any page script: `alert`/`confirm`/`prompt`/`print` return at once
  and `window.open` opens nothing (a page that loops on `alert()` or opens windows cannot hold the
  audit), and attempts are counted so the report can say so; it also notes when the DOM last
  changed, and keeps the measurement's scroll events and the leaving events (pagehide, unload, ...)
  of a stopped page from the page's listeners.
* `SETTLE_SCRIPT` waits for `load` (within a bound) and returns the DOM, with the count of its
  changes so far (INIT_SCRIPT's mutation observer); asked to, it first waits until the DOM has not
  changed for a moment (within a bound: share widgets fill their containers around `load`).
* `STOP_SCRIPT` ends a measured page before its tab is reused: loading stopped, every timer,
  interval and animation frame cancelled, and none started after (with functions INIT_SCRIPT kept
  out of the page's reach).
* `MEASURE_SCRIPT` waits until the DOM has not changed for a moment, refuses to measure a DOM
  changed since the snapshot the buttons were found in, then finds each share button the
  extractor reported (by selector, href and occurrence) and measures it: display, size,
  visibility, opacity, clipping, position, first viewport, sticky/fixed, what is at its centre
  (`elementFromPoint`), accessible name.
* `OUTLINE_SCRIPT` draws boxes over the measured buttons for screenshots (green visible, red hidden
  or covered) without changing the page's layout.
"""

from __future__ import annotations

INIT_SCRIPT = """
(() => {
  // Every rendered page starts as a first-time visitor: the top document's local and session
  // storage are emptied before its first script. The slot's reset clears the origin's storage
  // over DevTools too, but the renderer keeps the page's last write when it was not yet confirmed
  // by the browser at that moment (measured: about one page in ten under load carried consent to
  // the next one), and the next page, in the same renderer, would read it. `window.name` outlives
  // a same-site navigation of the tab (a page can keep consent in it): emptied too, as in a new tab.
  try { if (window.top === window) { window.name = ''; localStorage.clear(); sessionStorage.clear(); } } catch (e) {}
  // WebRTC sends its STUN/TURN requests over UDP from the browser, past the policy proxy (which
  // sees HTTP only): a page could send packets to any address. No share or sign-in control needs
  // it, so the constructors are removed before any page script runs, in every frame.
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection']) {
    try { delete window[name]; if (window[name]) Object.defineProperty(window, name, {value: undefined}); } catch (e) {}
  }
  const count = (name) => { window.__smoBlocked = window.__smoBlocked || {};
    window.__smoBlocked[name] = (window.__smoBlocked[name] || 0) + 1; };
  const quiet = (name, value) => function () { count(name); return value; };
  try {
    window.alert = quiet('alert', undefined);
    window.confirm = quiet('confirm', false);
    window.prompt = quiet('prompt', null);
    window.print = quiet('print', undefined);
    window.open = quiet('window.open', null);
  } catch (e) {}
  // Events that must not reach the page's listeners once it is measured: the measuring script's
  // scrolling fires scroll events in the next frame, which can come after the page was stopped and
  // its storage cleared, and the next page's navigation fires the leaving events (pagehide, ...)
  // later still; a listener that writes consent synchronously would carry it to the next page.
  // The listener below is the first on each one's capture path (this script runs before the
  // page's) and ends it there: scroll events once the measurement starts scrolling (`__smoMute`),
  // all of them once the page is stopped.
  // `document.open()` (a `document.write` after `load`) erases the window's listeners, this one
  // included, and listeners on one target run in the order they were added, capture or not. So it
  // is registered again (a no-op while it is there) before the page adds one of these listeners to
  // a window (this frame's, or another's through this frame's function), and when muting starts;
  // once the page is stopped, its handler properties for the leaving events (`onpagehide`,
  // `<body onunload>`) are emptied. Only what this script captured here is used: a page may
  // replace Set, Array and Function methods.
  const muted = Object.create(null);
  const SCROLLING = ['scroll', 'scrollend'];
  const LEAVING = ['pagehide', 'pageswap', 'unload', 'beforeunload', 'visibilitychange', 'freeze'];
  const WATCHED = SCROLLING.concat(LEAVING);
  const apply = Reflect.apply;
  let listen = () => {};
  try {
    const stopImmediate = Event.prototype.stopImmediatePropagation;
    const mute = (event) => { if (muted[event.type] === true) apply(stopImmediate, event, []); };
    const add = EventTarget.prototype.addEventListener;
    const watched = Object.create(null);
    for (const type of WATCHED) watched[type] = true;
    listen = () => { for (let i = 0; i < WATCHED.length; i++) apply(add, window, [WATCHED[i], mute, true]); };
    listen();
    Object.defineProperty(window, '__smoListen', {writable: false, configurable: false, enumerable: false, value: listen});
    EventTarget.prototype.addEventListener = {addEventListener(type, listener) {
      if (typeof type === 'string' && watched[type] === true) {
        const target = this ?? window;
        if (target === window) listen();
        else try { if (target.window === target) target.__smoListen(); } catch (e) {}
      }
      return apply(add, this, arguments);
    }}.addEventListener;
    Object.defineProperty(window, '__smoMute', {writable: false, configurable: false, enumerable: false,
                                                value: () => { for (let i = 0; i < SCROLLING.length; i++) muted[SCROLLING[i]] = true; listen(); }});
  } catch (e) {}
  // STOP_SCRIPT's means of ending the page once measured, kept where the page cannot replace them.
  try {
    const [stop, setT, clearT, clearI, raf, cancelRaf] = [window.stop.bind(window), setTimeout.bind(window),
      clearTimeout.bind(window), clearInterval.bind(window), requestAnimationFrame.bind(window),
      cancelAnimationFrame.bind(window)];
    // Once stopped, the page schedules nothing new: a handler that runs after the stop (a network
    // callback, an observer, a message listener) cannot start a timer that writes consent after
    // the context's storage is cleared. The page only ever sees these wrappers (this script runs
    // before its own).
    let stopped = false;
    for (const name of ['setTimeout', 'setInterval', 'requestAnimationFrame', 'requestIdleCallback']) {
      const original = window[name];
      if (typeof original !== 'function') continue;
      window[name] = function (...args) { return stopped ? 0 : original.apply(window, args); };
    }
    Object.defineProperty(window, '__smoStop', {writable: false, configurable: false, enumerable: false, value: () => {
      stopped = true;
      for (let i = 0; i < WATCHED.length; i++) muted[WATCHED[i]] = true;
      listen();
      for (let i = 0; i < LEAVING.length; i++) {
        const handler = 'on' + LEAVING[i];
        try { if (handler in window) window[handler] = null; } catch (e) {}
        try { if (handler in document) document[handler] = null; } catch (e) {}
      }
      stop();
      const last = setT(() => {}, 0);
      for (let id = Math.max(0, last - 100000); id <= last; id++) { clearT(id); clearI(id); }
      const frame = raf(() => {});
      for (let id = Math.max(0, frame - 100000); id <= frame; id++) cancelRaf(id);
    }});
  } catch (e) {}
  // When the DOM last changed (parsing included) and how many times: the settling and measuring
  // scripts wait for it to be quiet, and tell whether it changed after a snapshot.
  try {
    window.__smoChanged = performance.now();
    window.__smoMutations = 0;
    new MutationObserver(() => { window.__smoChanged = performance.now(); window.__smoMutations += 1; })
      .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  } catch (e) {}
})();
"""

# Waits (inside an async function) until the DOM has not changed for `quiet` ms, at most until
# `max` ms after `start`. INIT_SCRIPT's clock: a DOM already quiet costs no wait.
_QUIET_WAIT = """
  for (;;) {
    const changed = typeof window.__smoChanged === 'number' ? window.__smoChanged : start;
    const left = quiet - (performance.now() - changed);
    if (left <= 0 || performance.now() - start >= max) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, max - (performance.now() - start)) + 1));
  }
"""

SETTLE_SCRIPT = """
async ({quiet, max, start: since}) => {
  // The first time (`start` null): `load` (at most `max` ms). Then, with `quiet` > 0, a DOM that
  // has not changed for `quiet` ms (at most `max` ms after `start`: a second call does not wait
  // for `load` again). Then the DOM itself and the count of its changes so far.
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const first = typeof since !== 'number';
  const loaded = document.readyState === 'complete' || (first && await Promise.race([
    new Promise((resolve) => window.addEventListener('load', () => resolve(true), {once: true})),
    wait(max).then(() => document.readyState === 'complete'),
  ]));
  if (first) await wait(0);  // what `load` handlers queued runs first
  const start = first ? performance.now() : since;
""" + _QUIET_WAIT + """
  let html = '';
  if (document.doctype) html = new XMLSerializer().serializeToString(document.doctype);
  if (document.documentElement) html += document.documentElement.outerHTML;
  return {loaded, start, mark: window.__smoMutations, html, doc: performance.timeOrigin, url: location.href};
}
"""

STOP_SCRIPT = """
() => { if (typeof window.__smoStop === 'function') window.__smoStop(); }
"""

MEASURE_SCRIPT = """
async ({targets, quiet, max, start, mark, limit}) => {
  // Sent with the snapshot's targets while the page may still be changing: first the quiet wait
  // (the snapshot's extraction and this round trip happen during it), then, if the DOM changed
  // after the snapshot (`mark`; null: measure the DOM as it is), nothing is measured: the caller
  // takes a new snapshot.
""" + _QUIET_WAIT + """
  const blocked = window.__smoBlocked || {};
  if (mark !== null && window.__smoMutations !== mark) return {changed: true, blocked, doc: performance.timeOrigin};
  // The layout viewport in CSS px: a phone page without <meta name=viewport> is laid out 980 px
  // wide and shown zoomed out (`scale` < 1), so its buttons are smaller on screen than in CSS.
  const vw = window.innerWidth, vh = window.innerHeight;
  const scale = window.visualViewport ? window.visualViewport.scale : 1;
  const describe = (el) => {
    if (!el || !el.tagName) return null;
    let text = el.tagName.toLowerCase();
    if (el.id) text += '#' + el.id;
    const classes = (typeof el.className === 'string' ? el.className : '').trim().split(/\\s+/).filter(Boolean);
    if (classes.length) text += '.' + classes.slice(0, 3).join('.');
    return text.slice(0, 120);
  };
  // Attribute values as the extractor keeps them (extract/dom.py): Python's `str.strip()` and
  // `str.split()` whitespace, and its slices, which count code points, not UTF-16 units.
  const SPACE = '[\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+';
  const GAPS = new RegExp(SPACE), EDGE = new RegExp('^' + SPACE);
  // str.strip(): trimmed from each end by a walk (a `[...]+$` regex retries every run of spaces
  // that does not reach the end, quadratic on a hostile attribute value)
  const strip = (value) => {
    const start = value.replace(EDGE, '');
    let end = start.length;
    while (end > 0 && EDGE.test(start[end - 1])) end -= 1;
    return start.slice(0, end);
  };
  const cut = (value, n) => value.length <= n ? value : Array.from(value).slice(0, n).join('');
  // `limit`: the extractor's MAX_ATTR, which clips the hrefs it reports
  const hrefOf = (e) => cut(strip(e.getAttribute('href') || ''), limit);
  // The selector the extractor gives an element: Anchor.selector (extract/facts.py) for <a>,
  // _button_selector for <button> and <input> buttons, the frame's for <iframe> and
  // _marked_selector (share.py) for the rest, or (`marked`) for an <a>, <button> or <iframe> a
  // catalogue signature matched. Its id, else its first three classes, else an attribute.
  // `a:nth-of-type(...)` numbers a link among the page's links, which is not checked (it would
  // take a walk of the document).
  const selectorOf = (e, marked) => {
    const tag = e.tagName.toLowerCase();
    if (tag === 'iframe' && !marked) return 'iframe[src^="' + cut(e.getAttribute('src') || '', 80) + '"]';
    const id = cut(e.getAttribute('id') || '', 128);
    if (id) return tag + '#' + id;
    const classes = strip(e.getAttribute('class') || '').split(GAPS).filter(Boolean).slice(0, 3);
    if (classes.length) return tag + '.' + classes.join('.');
    if (tag === 'a' && !marked) return hrefOf(e) ? 'a[href="' + cut(hrefOf(e), 120) + '"]' : 'a:nth-of-type';
    const inputType = tag === 'input' ? strip(e.getAttribute('type') || '').toLowerCase() : '';
    const pressable = tag === 'button' || inputType === 'button' || inputType === 'submit' || inputType === 'image';
    if (pressable && !marked) {
      const label = cut(cut(e.getAttribute('aria-label') || '', 200), 80);
      if (label) return tag + '[aria-label="' + label + '"]';
      return tag === 'button' ? 'button' : 'input[type="' + inputType + '"]';
    }
    const type = cut(e.getAttribute('type') || '', limit);
    return type ? tag + '[type="' + type + '"]' : tag;
  };
  const named = (e, selector, marked) => {
    const own = selectorOf(e, marked);
    return own === selector || (own === 'a:nth-of-type' && selector.startsWith('a:nth-of-type('));
  };
  // The `n`th element the extractor named `selector` with this href. A query for `a.fb` also
  // finds `a.fb.m` (named so), which must not take the place of the `a.fb` after it.
  const pick = (selector, href, n) => {
    let found = [];
    try { found = Array.from(document.querySelectorAll(selector)); } catch (e) { found = []; }
    if (href) {
      let same = found.filter((e) => hrefOf(e) === href);
      // a selector that missed (an id CSS cannot parse, an href the query does not match as kept)
      if (!same.length) same = Array.from(document.querySelectorAll('[href]')).filter((e) => hrefOf(e) === href);
      found = same;
    }
    const own = found.filter((e) => named(e, selector, false));
    return (own.length ? own : found.filter((e) => named(e, selector, true)))[n] || null;
  };
  // Content under aria-hidden="true" (inside the button) is not part of its name.
  const unheard = (node, el) => { const h = node.closest('[aria-hidden="true"]'); return h !== null && h !== el && el.contains(h); };
  // The text shown (innerText), less aria-hidden subtrees: innerText itself where there are none,
  // else the same walk by hand, leaving out what innerText leaves out (display:none, text that is
  // not visibility:visible) and those subtrees. Only the button's own subtree is walked.
  const spoken = (node) => {
    if (!node.querySelector('[aria-hidden="true"]')) return node.innerText || '';
    const shows = getComputedStyle(node).visibility === 'visible';
    let text = '';
    for (const child of node.childNodes) {
      if (child.nodeType === 3) { if (shows) text += child.data; continue; }
      if (child.nodeType !== 1 || child.getAttribute('aria-hidden') === 'true') continue;
      const display = getComputedStyle(child).display;
      if (display === 'none') continue;
      const gap = display.startsWith('inline') || display === 'contents' ? '' : ' ';  // blocks are lines apart
      text += gap + spoken(child) + gap;
    }
    return text;
  };
  // The accessible name, as Chromium computes it in the cases share buttons have: aria-labelledby,
  // aria-label, the text, an icon's name (img alt, a labelled icon, an svg <title>) outside
  // aria-hidden content, title.
  const nameOf = (el) => {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const text = by.split(/\\s+/).map((id) => { const r = document.getElementById(id); return r ? r.textContent : ''; }).join(' ').trim();
      if (text) return text;
    }
    const label = el.getAttribute('aria-label');
    if (label && label.trim()) return label.trim();
    const text = spoken(el).replace(/\\s+/g, ' ').trim();
    if (text) return text;
    for (const img of el.querySelectorAll('img[alt]')) { if (img.alt.trim() && !unheard(img, el)) return img.alt.trim(); }
    for (const icon of el.querySelectorAll('[aria-label]')) {
      const label = icon.getAttribute('aria-label').trim();
      if (label && !unheard(icon, el)) return label;
    }
    for (const t of el.querySelectorAll('svg title')) { if (t.textContent.trim() && !unheard(t, el)) return t.textContent.trim(); }
    if (el.tagName === 'INPUT' && el.type === 'image') return (el.alt || el.value || '').trim();
    if (el.tagName === 'INPUT' && el.value) return el.value.trim();
    if (el.tagName === 'IFRAME' && el.title) return el.title.trim();
    const title = el.getAttribute('title');
    return title ? title.trim() : '';
  };
  const NOT_VISUAL = new Set(['SCRIPT', 'TEMPLATE', 'META', 'LINK', 'STYLE', 'NOSCRIPT', 'HEAD']);
  if (typeof window.__smoMute === 'function') window.__smoMute();  // from here on the page sees no scroll event
  window.scrollTo(0, 0);
  const doc = document.documentElement;
  const pageWidth = Math.max(doc.scrollWidth, vw);
  const pageHeight = Math.max(doc.scrollHeight, document.body ? document.body.scrollHeight : 0, vh);
  // What a visitor can scroll to. The viewport takes <html>'s overflow, or <body>'s when <html>'s
  // is visible (CSS propagation): `hidden` or `clip` there means no scrolling on that axis, so
  // what lies past the first screen on it is never seen (unless an inner scroller holds it).
  const CLIPS = {hidden: true, clip: true};
  const SCROLLS = {auto: true, scroll: true};
  const htmlStyle = getComputedStyle(doc);
  const bodyStyle = document.body ? getComputedStyle(document.body) : null;
  const bodyPropagates = htmlStyle.overflowX === 'visible' && htmlStyle.overflowY === 'visible';
  const viewportStyle = bodyPropagates && bodyStyle ? bodyStyle : htmlStyle;
  // Vertically, a page that cannot scroll is most often held still for a while (a consent dialog
  // locks the body's scrolling until it is answered), not for good: only sideways counts.
  const reachX = CLIPS[viewportStyle.overflowX] === true ? vw : pageWidth;
  // A page whose scrolling runs right to left (`dir=rtl`) starts at its right edge and scrolls
  // left: what lies left of the first screen, down to the lowest scrollX, is reached, what lies
  // right of it is not. Asked of the browser, which sets the scroll origin and range (a phone's
  // range is its layout width less the screen's, which innerWidth does not give).
  window.scrollTo(-pageWidth, 0);
  const leftmost = window.scrollX, rtl = leftmost < 0;
  window.scrollTo(0, 0);
  // the page's reachable width, in page coordinates at scroll 0: [startX, endX)
  const sideways = CLIPS[viewportStyle.overflowX] !== true;  // the visitor can scroll sideways
  const startX = rtl && sideways ? leftmost : 0, endX = rtl ? vw : reachX;
  const lengthOf = (token, reference) => {
    if (token === '0') return 0;
    if (/^-?[0-9.]+px$/.test(token)) return parseFloat(token);
    if (/^-?[0-9.]+%$/.test(token)) return parseFloat(token) * reference / 100;
    return NaN;  // calc(), em, ...: not judged
  };
  // A clip-path that leaves nothing of its element: inset() meeting in the middle (the
  // "visually hidden" idiom inset(50%)), a circle or ellipse of radius 0, a polygon of no area.
  const clipsAway = (value, box) => {
    const m = /^(inset|circle|ellipse|polygon)\\((.*)\\)$/.exec(value || '');
    if (!m) return false;
    const args = m[2];
    if (m[1] === 'inset') {
      const t = args.split(' round ')[0].trim().split(/\\s+/);
      const [top, right = top, bottom = top, left = right] = t;
      const h = lengthOf(top, box.height) + lengthOf(bottom, box.height);
      const w = lengthOf(left, box.width) + lengthOf(right, box.width);
      return h >= box.height || w >= box.width;
    }
    if (m[1] === 'circle' || m[1] === 'ellipse') {
      const radii = args.split(' at ')[0].trim().split(/\\s+/).slice(0, m[1] === 'circle' ? 1 : 2);
      return radii.some((r) => lengthOf(r, Math.min(box.width, box.height)) === 0);
    }
    // A polygon whose points span no width or no height (polygon(0 0, 0 0, 0 0)); a crossed one
    // (a bow-tie) has no signed area yet shows two triangles, so the area is not the test.
    const points = args.replace(/^(nonzero|evenodd)\\s*,/, '').split(',').map((pair) => pair.trim().split(/\\s+/));
    const xs = points.map(([x]) => lengthOf(x, box.width)), ys = points.map(([, y]) => lengthOf(y, box.height));
    if (xs.concat(ys).some(Number.isNaN)) return false;
    return Math.max(...xs) - Math.min(...xs) < 1 || Math.max(...ys) - Math.min(...ys) < 1;
  };
  // What shows of an element: its box, or for one with `display: contents`, which has none, the
  // boxes of its contents (a Range over them, with the same two methods).
  const shapeOf = (el, style) => {
    if (style.display !== 'contents') return el;
    const range = document.createRange();
    range.selectNodeContents(el);
    return range;
  };
  // The area a tap reaches: the element's box and those of the icons inside it (an inline <a>
  // wrapping a 44 px <svg> has a line-high box of its own, the icon is what is tapped). Only
  // icons that touch the element's box count (one moved far away is not what is tapped there),
  // and only what of them the element's own overflow leaves showing.
  const tapArea = (el, style = getComputedStyle(el)) => {
    const box = shapeOf(el, style).getBoundingClientRect();
    let {left, top, right, bottom} = box;
    let empty = box.width <= 0 || box.height <= 0;  // a box around floated icons: theirs alone
    // overflow applies to boxes that hold blocks, not to inline or contents ones
    const holdsOwn = style.display !== 'inline' && style.display !== 'contents';
    const cutX = holdsOwn && style.overflowX !== 'visible', cutY = holdsOwn && style.overflowY !== 'visible';
    const icons = el.querySelectorAll('img, svg, picture, canvas');
    for (let i = 0; i < icons.length && i < 8; i++) {
      const r = icons[i].getBoundingClientRect();
      if (r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) continue;
      const l = cutX ? Math.max(r.left, box.left) : r.left, rr = cutX ? Math.min(r.right, box.right) : r.right;
      const t = cutY ? Math.max(r.top, box.top) : r.top, b = cutY ? Math.min(r.bottom, box.bottom) : r.bottom;
      if (rr - l <= 0 || b - t <= 0) continue;
      if (empty) {
        [left, top, right, bottom] = [l, t, rr, b];
        empty = false;
      } else {
        left = Math.min(left, l); top = Math.min(top, t);
        right = Math.max(right, rr); bottom = Math.max(bottom, b);
      }
    }
    return {left, top, right, bottom, width: right - left, height: bottom - top};
  };
  // An element that is the containing block of fixed (and absolutely positioned) descendants
  // without being positioned: transformed, filtered, with perspective, contained, or about to be.
  const holds = (s) => s.transform !== 'none' || s.filter !== 'none' || s.perspective !== 'none'
    || (s.backdropFilter && s.backdropFilter !== 'none')
    || /paint|layout|strict|content/.test(s.contain || '') || /transform|filter|perspective/.test(s.willChange || '');
  const results = targets.map(({selector, href, n}) => {
    const el = pick(selector, href, n);
    if (!el || NOT_VISUAL.has(el.tagName)) return {found: false};
    const style = getComputedStyle(el);
    const rect = tapArea(el, style);
    const reasons = [];
    // checkVisibility() is false for an element without a box of its own (`display: contents`):
    // asked of its nearest ancestor with one
    let boxed = el;
    while (boxed.parentElement && getComputedStyle(boxed).display === 'contents') boxed = boxed.parentElement;
    const displayed = shapeOf(el, style).getClientRects().length > 0 && (boxed.checkVisibility ? boxed.checkVisibility() : true);
    if (!displayed) reasons.push('display:none');
    if (style.visibility !== 'visible') reasons.push('visibility:' + style.visibility);
    // `fixed`: position fixed or sticky (reported); `pinned`: fixed, placed against the viewport.
    let opacity = 1, fixed = false, pinned = false, clipped = false, scrollsX = false, scrollsY = false;
    // Overflow clips and scrolls only what its containing-block chain passes through: a fixed box
    // is held by the viewport, or by an ancestor that holds fixed boxes (`holds`); an absolutely
    // positioned one by its nearest positioned (or holding) ancestor; either escapes an
    // overflow-hiding ancestor below that one. `wanted`: what the next box of the chain must be
    // ('any': the parent, as for in-flow boxes). Opacity, filters and clip-paths apply to the
    // whole DOM subtree, so every ancestor still counts for them.
    let wanted = 'any';
    // `shown`: the part of the tap area its scrolling (and clipping) ancestors show at their
    // current scroll; `scrollers`: those ancestors with their scroll positions, which the cover
    // test below may move and puts back.
    const shown = {left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom};
    const scrollers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const s = node === el ? style : getComputedStyle(node);
      opacity *= parseFloat(s.opacity || '1');
      if (s.filter && s.filter !== 'none' && /opacity\\(0(\\.0*)?%?\\)/.test(s.filter)) opacity = 0;
      const boxless = s.display === 'contents';  // no box: neither positioned nor clipping
      if (displayed && !boxless && s.clipPath && s.clipPath !== 'none' && clipsAway(s.clipPath, node.getBoundingClientRect())) clipped = true;
      const onChain = node === el || wanted === 'any'
        || (!boxless && (holds(s) || (wanted === 'absolute' && s.position !== 'static')));
      if (!onChain) continue;
      // A fixed box at the end of the chain stays on the screen; a holder above it makes it
      // scroll with the page.
      if (wanted === 'fixed' && node !== el) pinned = false;
      if (s.position === 'fixed') { fixed = true; pinned = true; }
      if (s.position === 'sticky') fixed = true;
      wanted = boxless || (s.position !== 'fixed' && s.position !== 'absolute') ? 'any' : s.position;
      // An ancestor's box clips the axes its overflow hides; a scroller's content can be scrolled
      // to. <html>'s overflow (and <body>'s when it propagates) is the viewport's, judged below.
      if (node === el || !displayed || boxless || node === doc || (node === document.body && bodyPropagates)) continue;
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      if (SCROLLS[s.overflowX] === true) scrollsX = true;
      if (SCROLLS[s.overflowY] === true) scrollsY = true;
      const r = node.getBoundingClientRect();
      scrollers.push([node, node.scrollLeft, node.scrollTop]);
      // its scrollport: the padding box less the scrollbars
      const portLeft = r.left + node.clientLeft, portTop = r.top + node.clientTop;
      if (s.overflowX !== 'visible') {
        shown.left = Math.max(shown.left, portLeft); shown.right = Math.min(shown.right, portLeft + node.clientWidth);
      }
      if (s.overflowY !== 'visible') {
        shown.top = Math.max(shown.top, portTop); shown.bottom = Math.min(shown.bottom, portTop + node.clientHeight);
      }
      const clipsX = CLIPS[s.overflowX] === true, clipsY = CLIPS[s.overflowY] === true;
      if (!clipsX && !clipsY) continue;
      const w = Math.min(rect.right, r.right) - Math.max(rect.left, r.left);
      const h = Math.min(rect.bottom, r.bottom) - Math.max(rect.top, r.top);
      if ((clipsX && w <= 0) || (clipsY && h <= 0)) clipped = true;
    }
    if (style.clip && style.clip !== 'auto' && /rect\\(\\s*0(px)?[ ,]+0(px)?[ ,]+0(px)?[ ,]+0(px)?\\s*\\)/.test(style.clip)) clipped = true;
    if (opacity <= 0) reasons.push('opacity:0');
    if (displayed && (rect.width < 2 || rect.height < 2)) reasons.push('zero size');
    if (clipped) reasons.push('clipped');
    const x = rect.left + window.scrollX, y = rect.top + window.scrollY;
    // A fixed element stays where it is on the screen (the page is at its top here): outside the
    // viewport it is never seen, however far the visitor scrolls.
    const offscreen = displayed && rect.width > 0 && (pinned
      ? (rect.right <= 0 || rect.bottom <= 0 || rect.left >= vw || rect.top >= vh)
      : (y + rect.height <= 0 || (!scrollsY && y >= pageHeight)
         || (rtl ? x >= endX || (!scrollsX && x + rect.width <= startX) : x + rect.width <= startX || (!scrollsX && x >= endX))));
    if (offscreen) reasons.push('off-screen');
    const visible = reasons.length === 0;
    // In the first screen: some of what its scrollers show of it is in the viewport (a button
    // scrolled out of a sideways bar's view is not, until the visitor scrolls the bar).
    const inFirst = visible && shown.right > Math.max(shown.left, 0) && shown.bottom > Math.max(shown.top, 0)
      && shown.left < vw && shown.top < vh;
    return {found: true, el, visible, displayed, visibility: style.visibility, opacity, clipped, offscreen, fixed,
            pinned, inFirst, scrollers, box: displayed ? {x, y, width: rect.width, height: rect.height} : null,
            name: nameOf(el).slice(0, 200), reasons};
  });
  // Occlusion: what a tap at the button's centre would hit. Buttons in the first viewport are
  // tested where the visitor first sees them; others once scrolled to the middle of the screen
  // (inner scrollers included). A fixed bar's button out of its scroller's view is first scrolled
  // into it (by the least scrolling), the page left at its top. The scrollers are put back after
  // each button, so that every one is tested on the page as it was first shown.
  for (const r of results) {
    if (!r.found || !r.visible) continue;
    if (r.inFirst || r.pinned) {
      if (r.scrollers.length) r.el.scrollIntoView({block: 'nearest', inline: 'nearest', behavior: 'instant'});
      window.scrollTo(0, 0);
    } else {
      r.el.scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'});
    }
    const hitAt = (box) => document.elementFromPoint(Math.min(Math.max(box.left + box.width / 2, 0), vw - 1),
                                                     Math.min(Math.max(box.top + box.height / 2, 0), vh - 1));
    const mine = (hit) => hit === r.el || r.el.contains(hit);
    let hit = hitAt(tapArea(r.el));
    // An ancestor at the centre: its ::before/::after drawn over the button (a paywall fade, a
    // dimming layer), unless the point fell between the lines of a wrapped link: its first line
    // is tried too.
    if (hit && !mine(hit) && hit.contains(r.el)) {
      const line = shapeOf(r.el, getComputedStyle(r.el)).getClientRects()[0];
      const again = line ? hitAt(line) : hit;
      if (again && mine(again)) hit = again;
    }
    r.coveredBy = (hit && !mine(hit)) ? describe(hit) : null;
    for (const [node, left, top] of r.scrollers) { node.scrollLeft = left; node.scrollTop = top; }
  }
  window.scrollTo(0, 0);
  return {changed: false, blocked, pageHeight, scale, doc: performance.timeOrigin,
          buttons: results.map((r) => { if (!r.found) return r; const {el, pinned, scrollers, ...rest} = r; return rest; })};
}
"""

OUTLINE_SCRIPT = """
(boxes) => {
  const layer = document.createElement('div');
  layer.setAttribute('data-smo-audit', 'outlines');
  layer.style.cssText = 'position:absolute;left:0;top:0;width:0;height:0;z-index:2147483647;pointer-events:none';
  for (const b of boxes) {
    const d = document.createElement('div');
    const w = Math.max(b.width, 6), h = Math.max(b.height, 6);
    d.style.cssText = `position:absolute;left:${b.x - 3}px;top:${b.y - 3}px;width:${w + 6}px;height:${h + 6}px;` +
      `box-sizing:border-box;border:3px solid ${b.ok ? '#0a0' : '#e00'};pointer-events:none`;
    layer.appendChild(d);
  }
  document.documentElement.appendChild(layer);
}
"""
