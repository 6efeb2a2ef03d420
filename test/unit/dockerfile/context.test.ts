// The build context as the CLI and the editor hand it to the rules: existence, and the text of
// small files only (a folder or a file over 1 MiB is no manifest).
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeDockerfile, buildContext } from '../../../src/core/dockerfile/index.js';
import { dockerfile } from './helpers.js';

describe('buildContext', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lazyimg-context-'));
    await writeFile(join(dir, 'package.json'), '{"scripts":{"postinstall":"node build.js"}}\n');
    await mkdir(join(dir, 'node_modules'));
    await writeFile(join(dir, 'big.json'), Buffer.alloc((1 << 20) + 1, 0x20));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says what exists, and reads small files only', () => {
    const context = buildContext(dir);
    assert.deepEqual(['package.json', 'node_modules', 'big.json', 'missing'].map(context.exists), [true, true, true, false]);
    assert.equal(context.read('package.json'), '{"scripts":{"postinstall":"node build.js"}}\n');
    assert.equal(context.read('node_modules'), undefined);
    assert.equal(context.read('big.json'), undefined);
    assert.equal(context.read('missing'), undefined);
  });

  it('lets the rules see what the manifests say', () => {
    const { findings } = analyzeDockerfile(dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'RUN npm ci'), buildContext(dir));
    const finding = findings.find((f) => f.ruleId === 'deps-before-sources');
    assert.ok(finding);
    assert.equal(finding.fix, undefined);
    assert.match(finding.message, /package\.json has a postinstall script/);
  });
});
