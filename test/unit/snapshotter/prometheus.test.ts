import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '../../../src/core/snapshotter/index.js';
import { FormatError } from '../../../src/core/errors.js';

const FIXTURES = resolve(__dirname, '..', '..', '..', '..', 'test', 'unit', 'snapshotter', 'fixtures');

describe('parsePrometheusText', () => {
  it('reads a real scrape of soci-snapshotter-grpc v0.16.1 (idle: Go and process collectors)', () => {
    const text = readFileSync(resolve(FIXTURES, 'soci-v0.16.1-idle.metrics.txt'), 'utf8');
    const families = parsePrometheusText(text);
    const typeLines = text.split('\n').filter((l) => l.startsWith('# TYPE')).length;
    assert.equal(families.size, typeLines);
    const gc = families.get('go_gc_duration_seconds')!;
    assert.equal(gc.type, 'summary');
    assert.deepEqual(gc.samples.map((s) => s.name), [...Array(5).fill('go_gc_duration_seconds'), 'go_gc_duration_seconds_sum', 'go_gc_duration_seconds_count']);
    assert.equal(gc.samples.find((s) => s.name.endsWith('_count'))!.value, 2);
    assert.equal(gc.samples[0]!.labels.quantile, '0');
    assert.equal(families.get('promhttp_metric_handler_requests_total')!.samples.length, 3);
    assert.ok(families.get('go_info')!.samples[0]!.labels.version!.startsWith('go'));
    assert.match(families.get('go_goroutines')!.help, /goroutines/);
  });

  it('groups histogram samples under their family and reads special values', () => {
    const families = parsePrometheusText([
      '# HELP x_seconds Latency with a \\\\ backslash',
      '# TYPE x_seconds histogram',
      'x_seconds_bucket{le="1"} 2',
      'x_seconds_bucket{le="+Inf"} 3 1700000000000',
      'x_seconds_sum 1.5e0',
      'x_seconds_count 3',
      'y{a="q\\"uote",b="line\\nbreak",c="back\\\\slash",} NaN',
      'z -Inf',
      '# a comment',
      '',
    ].join('\n'));
    const x = families.get('x_seconds')!;
    assert.equal(x.help, 'Latency with a \\ backslash');
    assert.deepEqual(x.samples.map((s) => [s.name, s.value]), [['x_seconds_bucket', 2], ['x_seconds_bucket', 3], ['x_seconds_sum', 1.5], ['x_seconds_count', 3]]);
    const y = families.get('y')!;
    assert.equal(y.type, 'untyped');
    assert.deepEqual(y.samples[0]!.labels, { a: 'q"uote', b: 'line\nbreak', c: 'back\\slash' });
    assert.ok(Number.isNaN(y.samples[0]!.value));
    assert.equal(families.get('z')!.samples[0]!.value, -Infinity);
  });

  const bad = [
    { name: 'a value that is not a number', text: 'ok 1\nm{a="b"} twelve', line: 2 },
    { name: 'an unclosed label value', text: 'm{a="b} 1', line: 1 },
    { name: 'a label without a quoted value', text: 'm{a=b} 1', line: 1 },
    { name: 'an unknown escape', text: 'm{a="\\t"} 1', line: 1 },
    { name: 'a duplicate label', text: 'm{a="1",a="2"} 1', line: 1 },
    { name: 'no value', text: '\n\nm{a="1"}', line: 3 },
    { name: 'a bad timestamp', text: 'm 1 yesterday', line: 1 },
    { name: 'an unknown type', text: '# TYPE m gauges', line: 1 },
    { name: 'a TYPE after its samples', text: 'm 1\n# TYPE m gauge', line: 2 },
    { name: 'a line that is no metric', text: '{a="1"} 1', line: 1 },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}, naming the line`, () => {
      assert.throws(() => parsePrometheusText(c.text), (e: unknown) => e instanceof FormatError && e.code === 'INVALID_FORMAT' && e.offset === c.line && e.message.includes(`line ${c.line}:`));
    });
  }
});
