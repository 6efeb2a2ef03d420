// The rules over real Dockerfiles (shared corpora, copied unmodified from public repositories):
// analysis never throws, every fix changes only what its rule says and leaves a Dockerfile that
// parses, and the findings match each corpus' committed snapshot. `UPDATE_SNAPSHOTS=1` rewrites
// them; review the diff like code. A corpus may describe each file's build context (contexts.json:
// the paths at the context's first two levels; contexts/<file>/: the manifests the rules read), so
// the rules see what `lazyimg lint` would see in that checkout.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { analyzeDockerfile, instructionText, parseDockerfile, type AnalyzeOptions, type Analysis, type DockerInstruction, type DockerfileModel, type Finding } from '../../../src/core/dockerfile/index.js';
import { applyFix } from './helpers.js';

const ROOT = resolve(__dirname, '..', '..', '..', '..');

interface Corpus {
  /** The folder's name under shared/corpus. */
  folder: string;
  /** What names the folder elsewhere. */
  env: string;
  snapshot: string;
  what: string;
  /**
   * Checked only where it has been placed: these files came through the code-search tools, whose
   * terms keep them out of this repository, and shared/ is not ours to write. Its snapshot stays
   * committed, so a run with the folder shows any change in the findings.
   */
  optional?: boolean;
}

const CORPORA: Corpus[] = [
  { folder: 'dockerfiles', env: 'LAZYIMG_CORPUS', snapshot: 'corpus.snapshot.md', what: 'Dockerfiles' },
  { folder: 'dockerfiles-cache-order', env: 'LAZYIMG_CACHE_ORDER_CORPUS', snapshot: 'corpus-cache-order.snapshot.md', what: 'Dockerfiles showing (or avoiding) the cache-order misses', optional: true },
];

/** The shared corpora sit next to the working copy; a clone elsewhere (CI) finds them at /work/shared. */
function locate(corpus: Corpus): string {
  const here = resolve(ROOT, '..', 'shared', 'corpus', corpus.folder);
  return process.env[corpus.env] ?? [here, `/work/shared/corpus/${corpus.folder}`].find((d) => existsSync(d)) ?? here;
}

const NOT_DOCKERFILES = new Set(['SOURCES.md', 'contexts.json']);

function corpusFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => !NOT_DOCKERFILES.has(f) && statSync(join(dir, f)).isFile()).sort();
}

/** The build context of a corpus file, as far as the corpus records it. */
function contextOf(dir: string, file: string): AnalyzeOptions {
  const listing = join(dir, 'contexts.json');
  if (!existsSync(listing)) return {};
  const entry = (JSON.parse(readFileSync(listing, 'utf8')) as Record<string, { paths: string[] } | undefined>)[file];
  if (!entry) return {};
  const paths = new Set(entry.paths);
  return {
    exists: (p) => paths.has(p.replace(/\/$/, '')),
    read: (p) => {
      const copy = join(dir, 'contexts', file, p);
      return paths.has(p) && existsSync(copy) && statSync(copy).isFile() ? readFileSync(copy, 'utf8') : undefined;
    },
  };
}

/** An instruction as the builder reads it: comment lines and line continuations out, spaces collapsed. */
function normalized(model: DockerfileModel, ins: DockerInstruction): string {
  return instructionText(model, ins).split('\n')
    .filter((line, i) => i === 0 || !/^\s*#/.test(line))
    .map((line) => line.replace(/\\\s*$/, ''))
    .join(' ').replace(/\s+/g, ' ').trim();
}

/** Per stage, the instructions (FROM included) as normalized text. */
function stageInstructions(model: DockerfileModel): string[][] {
  return model.stages.map((s) => [s.from, ...s.instructions].map((i) => normalized(model, i)));
}

/** What is in `a` and not in `b`, counting repeats. */
function minus(a: string[], b: string[]): string[] {
  const left = [...b];
  return a.filter((x) => {
    const i = left.indexOf(x);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

/** The instruction whose first line is `line`, as normalized text. */
function instructionAt(model: DockerfileModel, line: number): string | undefined {
  const ins = model.stages.flatMap((s) => [s.from, ...s.instructions]).find((i) => i.range.start.line === line);
  return ins && normalized(model, ins);
}

const MANIFEST = /^(package\*\.json|package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|\.yarnrc\.yml|\.npmrc|pnpm-lock\.yaml|uv\.lock|[^/]*requirements[^/]*\.txt|pyproject\.toml|poetry\.lock|Pipfile(\.lock)?|go\.(mod|sum)|pom\.xml|Cargo\.(toml|lock)|Gemfile(\.lock)?|composer\.(json|lock))$/;
const FLAGS: Record<string, string> = { 'apt-no-recommends': '--no-install-recommends', 'apk-no-cache': '--no-cache', 'pip-no-cache': '--no-cache-dir' };

/** Whether `after` is `before` with ` flag` inserted once, somewhere. */
/** `after` is `before` with ` flag` inserted once or more (apt-no-recommends fixes every install of a RUN). */
function onlyInserted(before: string, after: string, flag: string): boolean {
  return after !== before && after.split(` ${flag}`).join('') === before.split(` ${flag}`).join('') && after.split(` ${flag}`).length > before.split(` ${flag}`).length;
}

/**
 * Checks that the fix changed the instructions only as its rule says: `removed` and `added` are
 * the multiset difference, stage by stage, between the instructions before and after.
 */
function checkChange(finding: Finding, target: string | undefined, removed: string[], added: string[]): void {
  const what = `removed ${JSON.stringify(removed)}, added ${JSON.stringify(added)}`;
  switch (finding.ruleId) {
    case 'deps-before-sources': {
      assert.deepEqual(removed, [], `a move removes nothing: ${what}`);
      assert.ok(added.length <= 1, `at most one COPY of the manifests is added: ${what}`);
      for (const copy of added) {
        const words = copy.split(' ').filter((w) => !w.startsWith('--'));
        assert.equal(words[0], 'COPY', `only a COPY is added: ${what}`);
        for (const source of words.slice(1, -1)) assert.match(basename(source), MANIFEST, `the added COPY copies only manifests: ${copy}`);
      }
      return;
    }
    case 'expensive-after-sources':
      assert.deepEqual({ removed, added }, { removed: [], added: [] }, `a move changes no instruction: ${what}`);
      return;
    case 'dependency-step-missing': {
      assert.deepEqual(removed, [], `the fix removes nothing: ${what}`);
      assert.equal(added.at(-1), 'RUN go mod download', `the fix adds the download: ${what}`);
      assert.ok(added.length <= 2, `and at most a COPY of go.mod and go.sum: ${what}`);
      if (added.length === 2) assert.match(added[0] ?? '', /^COPY (--chown=\S+ )?(\S*go\.(mod|sum) )+\S+$/, `the added COPY copies go.mod and go.sum only: ${what}`);
      return;
    }
    case 'apt-update-alone': {
      assert.equal(removed.length, 2, `the merge takes two RUNs: ${what}`);
      assert.equal(added.length, 1, `the merge gives one RUN: ${what}`);
      assert.ok(target && removed.includes(target), `the update RUN is merged: ${what}`);
      const next = removed.find((r) => r !== target) ?? target ?? '';
      assert.equal(added[0], `${target} && ${next.replace(/^RUN /, '')}`, 'the merged RUN is the update, &&, then the next RUN');
      assert.doesNotMatch(added[0] ?? '', /&& --/, 'flags of the next RUN cannot follow &&');
      return;
    }
    case 'apt-no-recommends':
    case 'apk-no-cache':
    case 'pip-no-cache': {
      const flag = FLAGS[finding.ruleId] as string;
      assert.deepEqual(removed, [target], `only the reported RUN changes: ${what}`);
      assert.equal(added.length, 1, what);
      assert.ok(onlyInserted(target ?? '', added[0] ?? '', flag), `the RUN only gains ${flag}: ${what}`);
      return;
    }
    case 'apt-lists-left':
    case 'dnf-no-clean': {
      assert.deepEqual(removed, [target], `only the reported RUN changes: ${what}`);
      assert.equal(added.length, 1, what);
      const after = added[0] ?? '';
      const tail = after.slice((target ?? '').length);
      assert.ok(after.startsWith(target ?? ''), `the RUN is kept as it was: ${what}`);
      assert.match(tail, /^( &&)? (rm -rf \/var\/lib\/apt\/lists\/\*|(dnf|yum|microdnf) clean all|zypper clean( --all| -a)?)$/, `only a cleanup is appended: ${what}`);
      return;
    }
    default:
      assert.fail(`${finding.ruleId} has a fix this test does not know how to check: teach checkChange what it may change`);
  }
}

/** After the fix the rule does not report the same thing again. */
function checkGone(finding: Finding, before: Analysis, after: Analysis, target: string | undefined): void {
  const same = (a: Analysis) => a.findings.filter((f) => f.ruleId === finding.ruleId);
  switch (finding.ruleId) {
    case 'deps-before-sources':
    case 'dependency-step-missing':
      assert.ok(same(after).length < same(before).length, 'the fix removes the finding');
      return;
    case 'expensive-after-sources': {
      const again = same(after).filter((f) => instructionAt(after.model, f.range.start.line) === target);
      assert.deepEqual(again.map((f) => f.message), [], 'the moved RUN is not reported again');
      return;
    }
    default: {
      const again = same(after).filter((f) => f.range.start.line === finding.range.start.line);
      assert.deepEqual(again.map((f) => f.message), [], 'the fixed RUN is not reported again');
    }
  }
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function snapshot(corpus: Corpus, results: Array<{ file: string; findings: Finding[] }>): string {
  const count = results.reduce((n, r) => n + r.findings.length, 0);
  const fixable = results.reduce((n, r) => n + r.findings.filter((f) => f.fix).length, 0);
  const out = [
    corpus.folder === 'dockerfiles' ? '# Dockerfile corpus: findings' : `# Dockerfile corpus \`${corpus.folder}\`: findings`,
    '',
    `Written by \`test/unit/dockerfile/corpus.test.ts\` from \`shared/corpus/${corpus.folder}\` (sources in its \`SOURCES.md\`).`,
    'Rewrite with `UPDATE_SNAPSHOTS=1 node --test out/test/unit/dockerfile/`, then review the diff.',
    '',
    `${results.length} files, ${count} findings, ${fixable} with a fix.`,
  ];
  for (const { file, findings } of results) {
    out.push('', `## ${file}`, '');
    if (!findings.length) {
      out.push('No findings.');
      continue;
    }
    out.push('| line | rule | message | fix |', '| ---: | --- | --- | --- |');
    for (const f of findings) out.push(`| ${f.range.start.line + 1} | ${f.ruleId} | ${cell(f.message)} | ${f.fix ? cell(f.fix.title) : '-'} |`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * The cache-order misses on real Dockerfiles, file by file: what deps-before-sources and
 * dependency-step-missing report (line, rule, and whether with a fix), and files where they must
 * report nothing. Every file of the cache-order corpus is listed.
 */
const CACHE_ORDER: Record<string, Record<string, string[]>> = {
  'dockerfiles-cache-order': {
    // 1. `COPY . .`, then `COPY requirements.txt .` and the install: the sources go below the install.
    rahulkhatri137__mirrorbot137__Dockerfile: ['4 deps-before-sources, fixed'],
    // 2. A compiled build right after the sources, nothing fetched before them.
    meilisearch__meilisearch__Dockerfile: ['15 dependency-step-missing'],
    valeriansaliou__sonic__Dockerfile: ['14 dependency-step-missing'],
    mosajjal__sniproxy__Dockerfile: ['11 dependency-step-missing'], // the build runs in cmd/sniproxy: no fix
    gophish__gophish__Dockerfile: ['7 deps-before-sources, fixed', '16 dependency-step-missing, fixed'],
    'memsql__singlestore-kafka-connector__Dockerfile': ['3 dependency-step-missing'], // src/ copied, then mvn package
    'JKEniu__spring-petclinic__Dockerfile': ['2 dependency-step-missing'], // src/ copied in the stage the build is FROM
    'JKEniu__spring-petclinic__DockerfileBuild': ['2 dependency-step-missing'],
    // 3. An install of the whole project after the sources: a suggestion.
    locustio__locust__Dockerfile: ['23 deps-before-sources'], // uv build && pip install dist/*.whl
    tfandkusu__discord_atumaru_bot__Dockerfile: ['3 deps-before-sources'], // poetry install
    'x-motemen__gore__Dockerfile': ['5 deps-before-sources'], // make install, go.mod in the context
    // An install after the sources whose move would not be safe: a pnpm workspace; a WORKDIR between.
    Dokploy__dokploy__Dockerfile: ['9 deps-before-sources'],
    'Dokploy__dokploy__Dockerfile.monitoring': ['12 deps-before-sources'],
    // Clean: cargo-chef; go mod download first; cache mounts; requirements first, then `pip install -e .`;
    // make install before the sources.
    'LukeMathWalker__zero-to-production__Dockerfile': [],
    jesseduffield__lazygit__Dockerfile: [],
    benbjohnson__litestream__Dockerfile: [],
    'datamindedbe__demo-llm-hackathon__llm-hackathon-ingestion__Dockerfile': [],
    'wechaty__python-wechaty-template__Dockerfile': [],
  },
  dockerfiles: {
    'gpt-engineer-org__gpt-engineer__docker__Dockerfile': ['13 deps-before-sources'], // pip install -e .
    // Clean: a Gradle task that downloads first; go mod download, mvn dependency:go-offline or
    // dependency:resolve, cargo chef cook before the sources.
    'GoogleCloudPlatform__microservices-demo__src__adservice__Dockerfile': [],
    'GoogleCloudPlatform__microservices-demo__src__frontend__Dockerfile': [],
    'docker__awesome-compose__react-java-mysql__backend__Dockerfile': [],
    qdrant__qdrant__Dockerfile: [],
  },
};

for (const corpus of CORPORA) {
  const dir = locate(corpus);
  if (corpus.optional && !existsSync(dir)) continue;
  const files = corpusFiles(dir);
  const snapshotFile = join(ROOT, 'test', 'unit', 'dockerfile', corpus.snapshot);

  describe(`Dockerfile corpus ${corpus.folder}`, () => {
    it('is there', () => {
      assert.ok(existsSync(dir), `Dockerfile corpus not found at ${dir}: set ${corpus.env} to a folder of ${corpus.what} (the shared one is shared/corpus/${corpus.folder}, next to the repository)`);
      assert.ok(files.length > 0, `no Dockerfiles in ${dir}`);
    });

    const results: Array<{ file: string; findings: Finding[] }> = [];
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      const context = contextOf(dir, file);
      let analysis: Analysis | undefined;
      let error: unknown;
      try {
        analysis = analyzeDockerfile(text, context);
      } catch (e) {
        error = e;
      }
      results.push({ file, findings: analysis?.findings ?? [] });

      describe(file, () => {
        it('is analyzed without throwing', () => {
          if (error) throw error;
          assert.ok(analysis);
        });
        if (!analysis) return;
        const before = analysis;
        for (const finding of before.findings.filter((f) => f.fix)) {
          it(`${finding.ruleId} at line ${finding.range.start.line + 1}: the fix changes only what the rule says`, () => {
            const fixed = applyFix(text, finding);
            const after = analyzeDockerfile(fixed, context);
            assert.equal(after.model.stages.length, before.model.stages.length, 'same stages after the fix');
            const target = finding.ruleId === 'deps-before-sources' || finding.ruleId === 'dependency-step-missing' ? undefined : instructionAt(before.model, finding.range.start.line);
            const was = stageInstructions(before.model);
            const now = stageInstructions(after.model);
            const removed = was.flatMap((s, i) => minus(s, now[i] ?? []));
            const added = now.flatMap((s, i) => minus(s, was[i] ?? []));
            checkChange(finding, target, removed, added);
            for (const edit of finding.fix?.edits ?? []) {
              // An insertion must not land inside a shell comment (`RUN ... # note`): it would never run.
              const line = text.split('\n')[edit.range.start.line] ?? '';
              const before = line.slice(0, edit.range.start.character);
              if (edit.newText && edit.range.start.line === edit.range.end.line) assert.doesNotMatch(before, /\s#/, `inserted after a shell comment on line ${edit.range.start.line + 1}`);
            }
            checkGone(finding, before, after, target);
            assert.doesNotThrow(() => parseDockerfile(fixed));
          });
        }
      });
    }

    // Without the corpus, 'is there' says where to put it; nothing else is worth reporting.
    const expected = files.length ? CACHE_ORDER[corpus.folder] ?? {} : {};
    describe('the cache-order misses, file by file', () => {
      if (corpus.folder === 'dockerfiles-cache-order' && files.length) {
        it('lists every file of the corpus', () => assert.deepEqual(Object.keys(expected).sort(), [...files].sort()));
      }
      for (const [file, want] of Object.entries(expected)) {
        it(file, () => {
          const found = results.find((r) => r.file === file);
          assert.ok(found, `${file} is not in ${dir}`);
          const cacheOrder = found.findings.filter((f) => f.ruleId === 'deps-before-sources' || f.ruleId === 'dependency-step-missing');
          assert.deepEqual(cacheOrder.map((f) => `${f.range.start.line + 1} ${f.ruleId}${f.fix ? ', fixed' : ''}`), want);
        });
      }
    });

    it(`matches the committed snapshot of findings (${corpus.snapshot})`, { skip: files.length === 0 && 'no corpus' }, () => {
      const text = snapshot(corpus, results);
      if (process.env.UPDATE_SNAPSHOTS === '1') {
        writeFileSync(snapshotFile, text);
        return;
      }
      assert.ok(existsSync(snapshotFile), `${snapshotFile} is missing: run once with UPDATE_SNAPSHOTS=1 and commit it`);
      assert.equal(text, readFileSync(snapshotFile, 'utf8'), `the findings changed: rerun with UPDATE_SNAPSHOTS=1 and review the diff of ${corpus.snapshot}`);
    });
  });
}
