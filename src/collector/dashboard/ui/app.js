// @ts-check
// The collector's built-in dashboard (GET /). Plain DOM, no framework. Every value
// that comes from recorded traffic (route names, bodies, paths, labels, reasons)
// reaches the page as text (textContent / text nodes), never as markup, so a body
// holding <script> or an onerror attribute is shown, not run. The read token, when
// the collector wants one, is kept in this tab's sessionStorage only.

/** @typedef {{ p50: number|null, p95: number|null, p99: number|null }} Quantiles */
/** @typedef {{ path: string, diffs: number }} Field */
/** @typedef {{ path: string, baseline_diffs: number, shadow_diffs: number, triples: number }} Noise */
/** @typedef {{ criterion: string, observed: unknown, threshold: unknown, ok: boolean|null, n?: number, lower?: number, upper?: number }} Reason */
/** @typedef {{ decision: string, reasons: Reason[], evaluated_at?: string }} Verdict */
/** @typedef {{ path: string, kind: string }} Diff */

const TOKEN_KEY = 'shadowmesh.readToken';
const REFRESH_MS = 5000;
const MISMATCHES_SHOWN = 10;
// Each shown route costs two reads per refresh; past this many, the filter narrows them.
const ROUTES_SHOWN = 50;

/** @type {{ token: string|null, timer: number|undefined, busy: boolean, again: boolean, charts: Map<string, any>, cards: Map<string, HTMLElement>, refreshes: number }} */
const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  timer: undefined,
  busy: false,
  again: false,
  charts: new Map(),
  cards: new Map(),
  refreshes: 0,
};

class Unauthorized extends Error {}

/** @param {string} id */
function byId(id) {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page lacks #${id}`);
  return e;
}

/**
 * Builds an element; children are nodes or strings (strings become text nodes).
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {...(Node|string|null|undefined)} children
 */
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** @param {number|null|undefined} x */
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(2)}%`);
/** @param {number|null|undefined} x */
const num = (x) => (x === null || x === undefined ? '–' : Number.isInteger(x) ? String(x) : Math.abs(x) < 1e-9 ? '0' : x.toPrecision(4));
/** @param {number|null|undefined} x */
const ms = (x) => (x === null || x === undefined ? '–' : `${x < 10 ? x.toFixed(2) : x.toFixed(1)} ms`);
/** @param {unknown} v */
const show = (v) => (v === null || v === undefined ? '–' : typeof v === 'number' ? num(v) : typeof v === 'string' ? v : JSON.stringify(v));

/** @param {string} path */
async function api(path) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  const res = await fetch(path, { headers, cache: 'no-store' });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}

/** An optional endpoint: null when this collector does not have it or it fails. @param {string} path */
async function optional(path) {
  try {
    return await api(path);
  } catch (err) {
    if (err instanceof Unauthorized) throw err;
    return null;
  }
}

/** @param {string} text @param {boolean} [error] */
function setStatus(text, error = false) {
  const s = byId('status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

function showLogin(wrong = false) {
  byId('login').hidden = false;
  byId('routes').hidden = true;
  byId('login-error').textContent = wrong ? 'That token was not accepted.' : '';
  setStatus('read token needed');
  /** @type {HTMLInputElement} */ (byId('token')).focus();
}

/** @param {Verdict|null} v */
function badge(v) {
  const decision = v?.decision ?? 'no verdict';
  return el('span', { class: `badge ${v ? decision : ''}` }, decision);
}

/** @param {string} label @param {string} value @param {string} [cls] */
const figure = (label, value, cls = '') => el('div', { class: `figure ${cls}` }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, value));

/**
 * @param {string[]} head
 * @param {(Node|string)[][]} rows
 * @param {number[]} [numeric] column indexes aligned right
 * @param {string} [name] class of the table
 */
function table(head, rows, numeric = [], name = '') {
  const cls = (/** @type {number} */ i) => (numeric.includes(i) ? 'num' : '');
  return el(
    'table',
    name ? { class: name } : {},
    el('thead', {}, el('tr', {}, ...head.map((h, i) => el('th', { class: cls(i) }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c, i) => el('td', { class: cls(i) }, c))))),
  );
}

/** @param {Verdict|null} v */
function reasonsTable(v) {
  if (!v) return el('p', { class: 'empty' }, 'No verdict from this collector.');
  return table(
    ['criterion', 'observed', 'threshold', 'ok'],
    v.reasons.map((r) => {
      let observed = show(r.observed);
      if (r.lower !== undefined && r.upper !== undefined) observed += ` [${num(r.lower)}, ${num(r.upper)}]`;
      if (r.n !== undefined) observed += ` (n=${r.n})`;
      return [r.criterion, observed, show(r.threshold), el('span', { class: `ok-${String(r.ok)}` }, r.ok === null ? 'inconclusive' : r.ok ? 'yes' : 'no')];
    }),
    [],
    'reasons',
  );
}

/** @param {any} s S of the route */
function latencyTable(s) {
  /** @type {Quantiles} */ const p = s.latency_ms.production;
  /** @type {Quantiles} */ const sh = s.latency_ms.shadow;
  return table(
    ['side', 'p50', 'p95', 'p99'],
    [
      ['production', ms(p.p50), ms(p.p95), ms(p.p99)],
      ['shadow', ms(sh.p50), ms(sh.p95), ms(sh.p99)],
    ],
    [1, 2, 3],
    'latency',
  );
}

/** @param {any} s */
function errorsTable(s) {
  const rate = (/** @type {number} */ e, /** @type {number} */ n) => (n === 0 ? '–' : pct(e / n));
  return table(
    ['side', 'errors (status 0 or 5xx)', 'rate'],
    [
      ['production', String(s.production_errors), rate(s.production_errors, s.production)],
      ['shadow', String(s.shadow_errors), rate(s.shadow_errors, s.shadow)],
    ],
    [1, 2],
    'errors',
  );
}

/** @param {any} prediction */
function predictionSection(prediction) {
  const out = [el('h4', {}, 'Model')];
  out.push(
    el('div', { class: 'figures' },
      figure('label agreement', pct(prediction.label_agreement)),
      figure('PSI', num(prediction.psi)),
      figure('KS', num(prediction.ks)),
      figure('|score Δ| mean / p95 / max', `${num(prediction.score_delta.mean_abs)} / ${num(prediction.score_delta.p95_abs)} / ${num(prediction.score_delta.max_abs)}`),
    ),
  );
  /** @type {Record<string, Record<string, number>>} */
  const confusion = prediction.confusion ?? {};
  const prodLabels = Object.keys(confusion);
  const shadowLabels = [...new Set(prodLabels.flatMap((p) => Object.keys(confusion[p] ?? {})))].sort();
  if (prodLabels.length > 0) {
    out.push(el('h4', {}, 'Label confusion (rows: production, columns: shadow)'));
    out.push(table(['', ...shadowLabels], prodLabels.map((p) => [p, ...shadowLabels.map((sl) => String(confusion[p]?.[sl] ?? 0))]), shadowLabels.map((_, i) => i + 1)));
  }
  const f = prediction.feedback;
  if (f) {
    out.push(el('h4', {}, 'Ground truth'));
    out.push(
      el('div', { class: 'figures feedback' },
        figure('labelled pairs', String(f.labelled)),
        figure('production accuracy', pct(f.production_accuracy)),
        figure('shadow accuracy', pct(f.shadow_accuracy)),
        figure('McNemar p', num(f.mcnemar_p)),
      ),
      el('p', { class: 'conclusion' }, `Conclusion: ${String(f.conclusion).replaceAll('_', ' ')}`),
    );
  }
  return out;
}

/** @param {string} route @param {any[]} items */
function mismatchList(route, items) {
  if (items.length === 0) return el('p', { class: 'empty' }, 'No mismatched pairs.');
  return table(
    ['id', 'status', 'differs at'],
    items.map((p) => {
      const open = el('button', { type: 'button', class: 'open-pair' }, p.id);
      open.addEventListener('click', () => void openPair(p.id));
      const diffs = /** @type {Diff[]} */ (p.diffs ?? []);
      const where = diffs.length === 0 ? 'status' : diffs.slice(0, 3).map((d) => d.path || '(body)').join(', ') + (diffs.length > 3 ? ` +${diffs.length - 3}` : '');
      const row = [open, `${p.production?.status ?? '–'} / ${p.shadow?.status ?? '–'}`, where];
      return row;
    }),
  );
}

/** A grouped bar chart of p50/p95/p99 per side (uPlot, loaded locally). */
function latencyChart(/** @type {HTMLElement} */ holder) {
  const uPlot = /** @type {any} */ (window).uPlot;
  if (!uPlot) return null;
  const bars = (/** @type {number} */ align) => uPlot.paths.bars({ size: [0.35, 60], align });
  const names = ['', 'p50', 'p95', 'p99'];
  return new uPlot(
    {
      width: 440,
      height: 170,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [0.5, 3.5] }, y: { range: (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { splits: () => [1, 2, 3], values: (/** @type {any} */ _u, /** @type {number[]} */ splits) => splits.map((v) => names[v] ?? '') },
        { label: 'ms', size: 50 },
      ],
      series: [
        { label: 'quantile' },
        { label: 'production', stroke: '#3461c1', fill: 'rgba(52,97,193,0.6)', paths: bars(-1), points: { show: false } },
        { label: 'shadow', stroke: '#d97706', fill: 'rgba(217,119,6,0.6)', paths: bars(1), points: { show: false } },
      ],
    },
    [[1, 2, 3], [null, null, null], [null, null, null]],
    holder,
  );
}

/** @param {string} route */
function card(route) {
  let c = state.cards.get(route);
  if (!c) {
    const chartHolder = el('div', { class: 'chart' });
    c = el('section', { class: 'route', 'data-route': route },
      el('div', { class: 'route-head' }, el('h2', { class: 'route-name' }, route), el('span', { class: 'badge-slot' })),
      el('div', { class: 'body' }),
      el('h4', {}, 'Latency chart'),
      chartHolder,
      el('div', { class: 'tail' }),
    );
    state.cards.set(route, c);
    state.charts.set(route, latencyChart(chartHolder));
  }
  return c;
}

/**
 * @param {string} route
 * @param {any} s S of the route
 * @param {Verdict|null} verdict
 * @param {any[]} mismatches
 */
function renderRoute(route, s, verdict, mismatches) {
  const c = card(route);
  /** @type {HTMLElement} */ (c.querySelector('.badge-slot')).replaceChildren(badge(verdict));
  const body = /** @type {HTMLElement} */ (c.querySelector('.body'));
  const parts = [
    el('div', { class: 'figures' },
      figure('pairs', String(s.pairs), 'pairs'),
      figure('match rate', pct(s.match_rate), 'match-rate'),
      figure('adjusted match rate', pct(s.adjusted_match_rate ?? s.match_rate), 'adjusted-match-rate'),
      figure('join rate', pct(s.join_rate)),
      figure('unmatched prod / shadow', `${s.unmatched_production} / ${s.unmatched_shadow}`),
      figure('late pairs', String(s.late)),
      figure('pending', String(s.pending)),
      figure('sides p / s / b', `${s.production} / ${s.shadow} / ${s.baseline}`),
    ),
    el('h4', {}, 'Verdict reasons'),
    reasonsTable(verdict),
    el('h4', {}, 'Latency'),
    latencyTable(s),
    el('h4', {}, 'Errors'),
    errorsTable(s),
  ];
  body.replaceChildren(...parts);

  const chart = state.charts.get(route);
  if (chart) {
    const q = (/** @type {Quantiles} */ x) => [x.p50, x.p95, x.p99];
    chart.setData([[1, 2, 3], q(s.latency_ms.production), q(s.latency_ms.shadow)]);
  }

  /** @type {Field[]} */ const fields = s.fields ?? [];
  /** @type {Noise[]} */ const noise = s.noise ?? [];
  const tail = [
    el('h4', {}, 'Top differing fields'),
    fields.length === 0 ? el('p', { class: 'empty' }, 'No body field differs.') : table(['path', 'pairs'], fields.slice(0, 10).map((f) => [f.path, String(f.diffs)]), [1], 'fields'),
    el('h4', {}, 'Noise paths (learned from the baseline)'),
    noise.length === 0
      ? el('p', { class: 'empty' }, 'None learned.')
      : table(['path', 'baseline diffs', 'shadow diffs', 'triples'], noise.map((n) => [n.path, String(n.baseline_diffs), String(n.shadow_diffs), String(n.triples)]), [1, 2, 3], 'noise'),
    ...(s.prediction ? predictionSection(s.prediction) : []),
    el('h4', {}, 'Recent mismatches'),
    mismatchList(route, mismatches),
  ];
  /** @type {HTMLElement} */ (c.querySelector('.tail')).replaceChildren(...tail);
  return c;
}

/** @param {any} control */
function renderControl(control) {
  const target = byId('control');
  if (!control) {
    target.replaceChildren();
    return;
  }
  /** @type {Record<string, number>} */ const sp = control.sample_percent ?? {};
  const entries = Object.entries(sp);
  target.replaceChildren(
    el('span', { class: 'label' }, 'control: '),
    entries.length === 0 ? 'sampling as configured' : entries.map(([r, v]) => `${r === '*' ? 'all routes' : r} → ${v}%`).join(', '),
  );
}

async function refresh() {
  if (state.busy) {
    state.again = true; // e.g. the filter changed: run once more right after this one
    return;
  }
  state.busy = true;
  window.clearTimeout(state.timer);
  try {
    const stats = await api('/v1/stats');
    const [control, overall] = await Promise.all([optional('/v1/control'), optional('/v1/verdict')]);
    const all = Object.keys(stats.routes);
    const filter = /** @type {HTMLInputElement} */ (byId('filter')).value.trim();
    const matching = filter === '' ? all : all.filter((n) => n.includes(filter));
    const names = matching.slice(0, ROUTES_SHOWN);
    byId('shown').textContent =
      names.length < all.length ? `Showing ${names.length} of ${all.length} routes${matching.length > names.length ? '; type in the filter to see others' : ''}.` : '';
    const details = await Promise.all(
      names.map(async (n) => {
        const q = encodeURIComponent(n);
        const [verdict, page] = await Promise.all([optional(`/v1/verdict?route=${q}`), api(`/v1/pairs?route=${q}&mismatch=true&limit=${MISMATCHES_SHOWN}`)]);
        return { verdict, mismatches: page?.items ?? [] };
      }),
    );
    byId('login').hidden = true;
    const routes = byId('routes');
    routes.hidden = false;
    const t = stats.total;
    byId('overall').replaceChildren(
      badge(overall),
      ` ${t.pairs} pairs, match ${pct(t.match_rate)}, adjusted ${pct(t.adjusted_match_rate ?? t.match_rate)}`,
    );
    renderControl(control);
    const cards = names.map((n, i) => renderRoute(n, stats.routes[n], details[i]?.verdict ?? null, details[i]?.mismatches ?? []));
    for (const [n, c] of state.cards) {
      if (!names.includes(n)) {
        state.cards.delete(n);
        state.charts.get(n)?.destroy();
        state.charts.delete(n);
        c.remove();
      }
    }
    routes.replaceChildren(...(cards.length > 0 ? cards : [el('p', { class: 'empty' }, all.length === 0 ? 'No records yet.' : 'No route matches the filter.')]));
    state.refreshes++;
    document.body.dataset.refreshes = String(state.refreshes);
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (err) {
    if (err instanceof Unauthorized) {
      showLogin(state.token !== null);
      return; // no polling until a token is given
    }
    setStatus(`cannot load: ${err instanceof Error ? err.message : String(err)}`, true);
  } finally {
    state.busy = false;
  }
  state.timer = window.setTimeout(() => void refresh(), state.again ? 0 : REFRESH_MS);
  state.again = false;
}

// ---- the side-by-side view of one pair ----

/** JSON Pointer segment escaping (RFC 6901). @param {string} key */
const escapeSegment = (key) => key.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Pretty-prints `value` as lines; a line whose JSON Pointer is a differing path
 * (or lies under one) is marked. Only text nodes are created.
 * @param {unknown} value
 * @param {Set<string>} marked
 * @param {HTMLElement} pre
 */
function renderJson(value, marked, pre) {
  /**
   * @param {unknown} v @param {string} pointer @param {number} depth
   * @param {string|null} key @param {boolean} last @param {boolean} inDiff
   */
  const walk = (v, pointer, depth, key, last, inDiff) => {
    const hit = inDiff || marked.has(pointer);
    const pad = '  '.repeat(depth) + (key === null ? '' : `${JSON.stringify(key)}: `);
    const comma = last ? '' : ',';
    const line = (/** @type {string} */ text) => pre.append(el('span', { class: hit ? 'line diff' : 'line', 'data-path': pointer }, text));
    if (Array.isArray(v) && v.length > 0) {
      line(`${pad}[`);
      v.forEach((x, i) => walk(x, `${pointer}/${i}`, depth + 1, null, i === v.length - 1, hit));
      pre.append(el('span', { class: hit ? 'line diff' : 'line' }, `${'  '.repeat(depth)}]${comma}`));
    } else if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
      line(`${pad}{`);
      const entries = Object.entries(v);
      entries.forEach(([k, x], i) => walk(x, `${pointer}/${escapeSegment(k)}`, depth + 1, k, i === entries.length - 1, hit));
      pre.append(el('span', { class: hit ? 'line diff' : 'line' }, `${'  '.repeat(depth)}}${comma}`));
    } else {
      line(`${pad}${JSON.stringify(v)}${comma}`);
    }
  };
  walk(value, '', 0, null, true, false);
}

/** A record's response body as text (base64 decoded). @param {any} record */
function bodyText(record) {
  const body = record?.response_body;
  if (typeof body !== 'string') return null;
  if (record.body_encoding !== 'base64') return body;
  try {
    const bytes = Uint8Array.from(atob(body), (ch) => ch.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch {
    return body;
  }
}

/** @param {HTMLElement} section @param {any} record @param {Set<string>} marked @param {boolean} wholeBody */
function renderSide(section, record, marked, wholeBody) {
  const status = /** @type {HTMLElement} */ (section.querySelector('.side-status'));
  const pre = /** @type {HTMLElement} */ (section.querySelector('pre'));
  pre.replaceChildren();
  if (!record) {
    status.textContent = 'no record (yet)';
    return;
  }
  status.textContent = `status ${record.status}${record.error ? ` (${record.error})` : ''}, ${ms(record.latency_ms)}${record.response_body_truncated ? ', body truncated' : ''}`;
  const text = bodyText(record);
  if (text === null) {
    pre.append(el('span', { class: 'line empty' }, '(no body)'));
    return;
  }
  let parsed;
  let isJson = false;
  try {
    parsed = JSON.parse(text);
    isJson = true;
  } catch {
    isJson = false;
  }
  if (isJson && !wholeBody) renderJson(parsed, marked, pre);
  else pre.append(el('span', { class: wholeBody ? 'line diff' : 'line' }, text));
}

/** @param {string} id */
async function openPair(id) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('pair-view'));
  let pair;
  try {
    pair = await api(`/v1/pairs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin(true);
    setStatus(`cannot load pair: ${err instanceof Error ? err.message : String(err)}`, true);
    return;
  }
  if (!pair) return setStatus(`pair ${id} is gone`, true);
  /** @type {Diff[]} */ const diffs = pair.diffs ?? [];
  const marked = new Set(diffs.filter((d) => !d.path.startsWith('header:')).map((d) => d.path));
  const wholeBody = diffs.some((d) => d.kind === 'body');
  byId('pair-title').textContent = `pair ${pair.id} (route ${pair.route})`;
  byId('pair-summary').textContent = `status ${pair.status_match ? 'matches' : 'differs'}, body ${pair.body_match ? 'matches' : 'differs'}${pair.truncated ? ', a body was truncated' : ''}`;
  byId('pair-diffs').replaceChildren(...diffs.map((d) => el('li', {}, `${d.kind} at ${d.path === '' ? '(whole body)' : d.path}`)));
  renderSide(/** @type {HTMLElement} */ (dialog.querySelector('.side.production')), pair.production, marked, wholeBody);
  renderSide(/** @type {HTMLElement} */ (dialog.querySelector('.side.shadow')), pair.shadow, marked, wholeBody);
  if (!dialog.open) dialog.showModal();
}

function start() {
  byId('pair-close').addEventListener('click', () => /** @type {HTMLDialogElement} */ (byId('pair-view')).close());
  byId('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const value = /** @type {HTMLInputElement} */ (byId('token')).value.trim();
    if (value === '') return;
    state.token = value;
    sessionStorage.setItem(TOKEN_KEY, value);
    void refresh();
  });
  byId('filter').addEventListener('input', () => void refresh());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void refresh();
  });
  void refresh();
}

start();
