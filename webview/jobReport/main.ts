// The job report: how a convert, index or optimize job ended. Each source layer before and after
// (size, time, throughput; the eStargz layer and its TOC, or the zTOC), the new references with
// Copy and Copy To..., and for a job that failed or was cancelled, what it left and what was
// cleaned up. Names, digests and messages are drawn as text.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '../shared/base.css';
import './style.css';
import { formatBytes } from '../../src/core/format.js';
import type { JobLayerRow, JobReportAction, JobReportData, JobSection, Leftovers, NewReference } from '../../src/extension/webviews/jobReportData.js';
import { h, replace, type Child } from '../shared/dom.js';
import { action, copy, start } from '../shared/host.js';

const root = document.getElementById('report')!;
const NONE = '—';

start<JobReportData>((data) => {
  document.title = `Job report: ${data.title}`;
  replace(root,
    h('h1', {}, 'Job report'),
    h('p', { class: 'title' }, data.title),
    h('p', { class: 'outcome', attrs: { 'data-status': data.status } },
      h('span', { class: `status status-${data.status}` }, data.status), ` after ${data.seconds.toFixed(1)} s: `, h('span', { class: 'detail' }, data.detail)),
    h('dl', { class: 'where' },
      h('dt', {}, 'Source'), h('dd', { class: 'mono' }, data.source),
      data.destination ? h('dt', {}, 'Destination') : null, data.destination ? h('dd', { class: 'mono' }, data.destination) : null),
    data.startup ? startup(data.startup) : null,
    data.references.length ? references(data.references) : null,
    data.left ? left(data.left) : null,
    h('h2', {}, data.status === 'succeeded' ? `Layers: before and after (${data.format})` : 'How far the job got'),
    ...data.sections.map((s) => section(s, data)),
  );
});

function button(label: string, run: () => void, title: string, kind?: JobReportAction | 'copy'): HTMLElement {
  return h('vscode-button', { title, attrs: { secondary: true, 'aria-label': title, 'data-action': kind ?? label }, onClick: run }, label);
}

function startup(s: NonNullable<JobReportData['startup']>): HTMLElement {
  return h('p', { class: 'startup' }, `Startup profile: ${s.files} file${s.files === 1 ? '' : 's'} recorded; the workload ${s.how}. `,
    s.report ? button('Open Startup Profile Report', () => action('startupReport'), 'Open the startup profile report', 'startupReport') : null);
}

function references(refs: NewReference[]): HTMLElement {
  return h('section', { class: 'references' },
    h('h2', {}, 'New references'),
    h('table', { class: 'grid' }, h('tbody', {}, ...refs.map((r) => h('tr', { attrs: { 'data-reference': r.reference } },
      h('td', {}, r.what),
      h('td', { class: 'reference mono' }, r.reference),
      h('td', { class: 'buttons' },
        button('Copy', () => copy(r.reference), `Copy ${r.reference}`, 'copy'),
        r.image ? button('Copy To...', () => action('copyTo', r.reference), `Copy ${r.reference} to another registry or layout`, 'copyTo') : null),
    )))),
  );
}

function left(l: Leftovers): HTMLElement {
  const kept: Child = l.kept === undefined ? null
    : l.kept.length === 0 ? h('p', { class: 'kept-none' }, `Nothing was stored in ${l.store}.`)
      : h('div', {},
        h('p', {}, `Kept in ${l.store}: content-addressed, so harmless; a later job that makes the same blobs finds them there.`),
        h('table', { class: 'grid kept' },
          h('thead', {}, h('tr', {}, h('th', {}, 'What'), h('th', {}, 'Digest'), h('th', { class: 'num' }, 'Size'), h('th', {}, 'Tag'))),
          h('tbody', {}, ...l.kept.map((k) => h('tr', { attrs: { 'data-digest': k.digest } },
            h('td', {}, k.what), h('td', { class: 'digest mono' }, k.digest), h('td', { class: 'num' }, formatBytes(k.size)), h('td', {}, k.tag ?? '')))),
        ));
  return h('section', { class: 'left' },
    h('h2', {}, 'What was left, and what was cleaned up'),
    kept,
    h('ul', { class: 'cleaned' }, ...l.cleaned.map((c) => h('li', {}, c))),
  );
}

function section(s: JobSection, data: JobReportData): HTMLElement {
  const done = data.status === 'succeeded';
  const head = done
    ? ['#', 'Source layer', 'Size', data.made, 'Size', data.format === 'eStargz' ? 'TOC digest' : 'Spans, files', 'Time', 'Throughput']
    : ['', 'Source blob', 'Size', 'Read'];
  const numeric = done ? [0, 2, 4, 6, 7] : [2, 3];
  return h('section', { class: 'layers', attrs: s.platform ? { 'data-platform': s.platform } : {} },
    s.platform ? h('h3', {}, s.platform) : null,
    s.index ? h('p', {}, 'SOCI index ', h('code', { class: 'index' }, s.index)) : null,
    h('table', { class: 'grid layers' },
      h('thead', {}, h('tr', {}, ...head.map((t, i) => h('th', { class: numeric.includes(i) ? 'num' : '' }, t)))),
      h('tbody', {}, ...s.layers.map((l) => (done ? row(l) : progressRow(l)))),
    ),
    s.layers.length === 0 ? h('p', { class: 'muted' }, 'The job reported no progress before it ended.') : null,
    s.prefetch ? prefetch(s.prefetch) : null,
  );
}

function row(l: JobLayerRow): HTMLElement {
  return h('tr', { attrs: { 'data-layer': l.digest, ...(l.made ? { 'data-made': l.made.digest } : {}) } },
    h('td', { class: 'num' }, l.index),
    h('td', { class: 'digest mono' }, l.digest),
    h('td', { class: 'num' }, formatBytes(l.size)),
    l.made ? h('td', { class: 'digest mono made' }, l.made.digest) : h('td', { class: 'muted' }, l.skipped ?? NONE),
    h('td', { class: 'num' }, l.made ? formatBytes(l.made.size) : NONE),
    h('td', { class: l.tocDigest ? 'digest mono toc' : '' }, l.tocDigest ?? (l.spans !== undefined ? `${l.spans} spans, ${l.files ?? 0} files` : NONE)),
    h('td', { class: 'num time' }, l.seconds === undefined ? NONE : `${l.seconds.toFixed(2)} s`),
    h('td', { class: 'num rate' }, l.seconds ? `${formatBytes(Math.round(l.size / l.seconds))}/s` : NONE),
  );
}

function progressRow(l: JobLayerRow): HTMLElement {
  const read = l.read ?? 0;
  return h('tr', { attrs: { 'data-layer': l.digest } },
    h('td', {}, l.label ?? l.index),
    h('td', { class: 'digest mono' }, l.digest),
    h('td', { class: 'num' }, formatBytes(l.size)),
    h('td', { class: 'num' }, read >= l.size ? 'all' : `${formatBytes(read)} (${l.size ? Math.floor((100 * read) / l.size) : 0}%)`),
  );
}

function prefetch(p: NonNullable<JobSection['prefetch']>): HTMLElement {
  return h('div', { class: 'prefetch' },
    h('p', {}, `Prefetch: ${p.files} file${p.files === 1 ? '' : 's'} found, in ${p.artifacts.length} artifact${p.artifacts.length === 1 ? '' : 's'}.`),
    h('ul', {}, ...p.artifacts.map((a) => h('li', {}, `layer `, h('code', {}, a.layer), `: `, h('code', {}, a.digest), `, ${a.spans} span${a.spans === 1 ? '' : 's'}, ${formatBytes(a.size)}`))),
    p.missing.length ? h('p', { class: 'warning' }, `Not prefetched, in no layer with a zTOC: ${p.missing.join(', ')}`) : null,
  );
}
