// The Dockerfile rules, one table per rule: where each reports (positive and negative cases), and
// what each fix does to the whole file. Every fix is applied, the result compared with the exact
// text expected, and re-analyzed: the finding must be gone.
// Cases marked `// Regression: ...` fail on purpose until the rule is fixed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { analyzeDockerfile, parseDockerfile, type AnalyzeOptions, type Finding, type TextEdit } from '../../../src/core/dockerfile/index.js';
import { applyEdits, applyFix, dockerfile, findingsOf } from './helpers.js';

interface Case {
  name: string;
  text: string;
  /** One entry per finding of the rule, in order: `line N`, or `line N, no fix`. */
  want: string[];
  options?: AnalyzeOptions;
}

interface FixCase {
  name: string;
  /** Has exactly one finding of the rule. */
  text: string;
  /** The whole Dockerfile after the fix. */
  want?: string;
  /** Checks on the fixed text, where its exact form is the rule's to choose. */
  check?: (fixed: string) => void;
  title?: string;
  options?: AnalyzeOptions;
}

function summary(f: Finding): string {
  return `line ${f.range.start.line + 1}${f.fix ? '' : ', no fix'}`;
}

function finds(ruleId: string, cases: Case[]): void {
  describe('where it reports', () => {
    for (const c of cases) {
      it(c.name, () => assert.deepEqual(findingsOf(c.text, ruleId, c.options).map(summary), c.want));
    }
  });
}

function fixes(ruleId: string, cases: FixCase[]): void {
  describe('its fix', () => {
    for (const c of cases) {
      it(c.name, () => {
        const found = findingsOf(c.text, ruleId, c.options);
        assert.equal(found.length, 1, `one ${ruleId} finding expected, got ${found.map(summary).join('; ') || 'none'}`);
        const finding = found[0] as Finding;
        assert.ok(finding.fix, `${ruleId} at ${summary(finding)} has no fix`);
        if (c.title !== undefined) assert.equal(finding.fix.title, c.title);
        const fixed = applyFix(c.text, finding);
        if (c.want !== undefined) assert.equal(fixed, c.want);
        c.check?.(fixed);
        assert.equal(parseDockerfile(fixed).stages.length, parseDockerfile(c.text).stages.length, 'same stages after the fix');
        assert.deepEqual(findingsOf(fixed, ruleId, c.options).map(summary), [], 'the fix leaves nothing for the rule to report');
      });
    }
  });
}

const lineOf = (text: string, pattern: string): number => text.split('\n').findIndex((l) => l.includes(pattern));

describe('applyEdits (test helper)', () => {
  const at = (line: number, character: number) => ({ line, character });
  const edit = (start: [number, number], end: [number, number], newText: string): TextEdit => ({ range: { start: at(...start), end: at(...end) }, newText });
  const cases: Array<{ name: string; text: string; edits: TextEdit[]; want: string }> = [
    { name: 'insertion', text: 'ab\ncd\n', edits: [edit([1, 1], [1, 1], 'X')], want: 'ab\ncXd\n' },
    { name: 'whole lines deleted', text: 'a\nb\nc\n', edits: [edit([1, 0], [2, 0], '')], want: 'a\nc\n' },
    { name: 'replacement across lines', text: 'a\nb\nc\n', edits: [edit([0, 1], [2, 0], '-')], want: 'a-c\n' },
    { name: 'edits given first to last are applied last first', text: 'a\nb\nc\n', edits: [edit([0, 0], [0, 0], '1'), edit([2, 0], [3, 0], '')], want: '1a\nb\n' },
    { name: 'two insertions at one place keep their order', text: 'x', edits: [edit([0, 0], [0, 0], 'a'), edit([0, 0], [0, 0], 'b')], want: 'abx' },
    { name: 'a line past the end is the end of the text', text: 'a\nb', edits: [edit([1, 0], [2, 0], '')], want: 'a\n' },
    { name: 'a character past the line end is the line end, before a CR', text: 'ab\r\ncd\r\n', edits: [edit([0, 9], [0, 9], '!')], want: 'ab!\r\ncd\r\n' },
  ];
  for (const c of cases) it(c.name, () => assert.equal(applyEdits(c.text, c.edits), c.want));
  it('refuses overlapping edits', () => {
    assert.throws(() => applyEdits('abcdef', [edit([0, 0], [0, 3], ''), edit([0, 2], [0, 4], '')]), /overlap/);
  });
});

describe('parseDockerfile', () => {
  it('reads the flags of COPY and RUN', () => {
    // Regression: dockerfile-ast's COPY/RUN (ModifiableInstruction) drop flags from getArguments(), so
    // `flags` is always empty: COPY --from counts as a copy from the context, cache and bind
    // mounts are never seen, --chown is lost. Read them with `getFlags()`.
    const model = parseDockerfile(dockerfile(
      'FROM alpine:3.20',
      'COPY --from=build --chown=1000:1000 /out /app',
      'RUN --mount=type=cache,target=/var/cache/apk --network=none apk add curl',
    ));
    const [copy, run] = model.stages[0]?.instructions ?? [];
    assert.deepEqual(copy?.flags, { from: ['build'], chown: ['1000:1000'] });
    assert.deepEqual(copy?.words, ['/out', '/app']);
    assert.deepEqual(run?.flags, { mount: ['type=cache,target=/var/cache/apk'], network: ['none'] });
    assert.deepEqual(run?.words, ['apk', 'add', 'curl']);
  });

  it('leaves comment lines inside a continuation out of the arguments', () => {
    // Regression: an indented comment line inside a RUN continuation stays in `args` (dockerfile-ast
    // keeps it, with its newline), so the shell reader sees `# tools` as a command and splits the
    // command at it: packages after the comment are lost to every rule.
    const model = parseDockerfile(dockerfile(
      'FROM debian:bookworm-slim',
      'RUN apt-get update && \\',
      '    # tools',
      '    apt-get install -y --no-install-recommends \\',
      '    # compilers',
      '    gcc',
    ));
    const run = model.stages[0]?.instructions[0];
    assert.doesNotMatch(run?.args ?? '', /#/);
    assert.deepEqual(run?.words, ['apt-get', 'update', '&&', 'apt-get', 'install', '-y', '--no-install-recommends', 'gcc']);
  });

  it('marks the final stage, and what ships: its FROM chain and stages nothing refers to', () => {
    const model = parseDockerfile(dockerfile('FROM node:20 AS base', 'FROM base AS build', 'FROM node:20 AS deps', 'FROM node:20 AS other', 'FROM base', 'COPY --from=deps /x /x'));
    assert.deepEqual(model.stages.map((s) => [s.name ?? null, s.final, s.ships]), [['base', false, true], ['build', false, true], ['deps', false, false], ['other', false, true], [null, true, true]]);
  });

  it('keeps comments directly above an instruction with it', () => {
    const model = parseDockerfile(dockerfile('FROM node:20', '# one', '', '# two', '# three', 'RUN npm ci'));
    assert.equal(model.stages[0]?.instructions[0]?.firstLine, 3);
  });
});

describe('deps-before-sources', () => {
  const ID = 'deps-before-sources';
  finds(ID, [
    { name: 'npm ci after COPY . .', text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'RUN npm ci'), want: ['line 3'] },
    { name: 'yarn install', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN yarn install --frozen-lockfile'), want: ['line 2'] },
    { name: 'bare yarn', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN yarn'), want: ['line 2'] },
    { name: 'pnpm install', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN pnpm install --frozen-lockfile'), want: ['line 2'] },
    { name: 'pip install -r', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 2'] },
    { name: 'python -m pip install -r', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN python3 -m pip install --no-cache-dir -r requirements.txt'), want: ['line 2'] },
    { name: 'poetry install', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN poetry install --no-root'), want: ['line 2'] },
    { name: 'pipenv install', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pipenv install --deploy'), want: ['line 2'] },
    { name: 'go mod download', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go mod download'), want: ['line 2'] },
    { name: 'maven dependency:go-offline', text: dockerfile('FROM maven:3-eclipse-temurin-21', 'COPY . .', 'RUN mvn -B dependency:go-offline'), want: ['line 2'] },
    // The wrapper runs from mvnw and .mvn/, which a COPY of pom.xml does not bring.
    { name: 'maven dependency:go-offline with the wrapper: no fix', text: dockerfile('FROM eclipse-temurin:21-jdk', 'COPY . .', 'RUN ./mvnw -B dependency:go-offline'), want: ['line 2, no fix'] },
    // cargo reads no manifest without the crate's targets (src/main.rs): cargo fetch cannot go first alone.
    { name: 'cargo fetch: no fix', text: dockerfile('FROM rust:1.80', 'COPY . .', 'RUN cargo fetch'), want: ['line 2, no fix'] },
    { name: 'bundle install', text: dockerfile('FROM ruby:3.3', 'COPY . .', 'RUN bundle install'), want: ['line 2'] },
    { name: 'composer install', text: dockerfile('FROM composer:2', 'COPY . .', 'RUN composer install --no-dev'), want: ['line 2'] },
    { name: 'install in a chain of commands', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN npm ci && npm cache clean --force'), want: ['line 2'] },
    { name: 'JSON-form RUN', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN ["npm", "ci"]'), want: ['line 2'] },
    { name: 'in every stage that does it', text: dockerfile('FROM node:20-slim AS a', 'COPY . .', 'RUN npm ci', 'FROM node:20-slim', 'COPY . .', 'RUN npm ci'), want: ['line 2', 'line 5'] },
    // The fix copies the sources after the install: what stands between them stays above the
    // install. A COPY reads ARG, ENV and WORKDIR only through what it names.
    { name: 'an ARG the install uses sits in between', text: dockerfile('FROM node:20-slim', 'COPY . .', 'ARG NPM_REGISTRY', 'RUN npm ci --registry=$NPM_REGISTRY'), want: ['line 2'] },
    { name: 'an ENV the install uses as ${NAME} sits in between', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'ENV PIP_INDEX=https://pypi.example.com/simple', 'RUN pip install --no-cache-dir -r requirements.txt --index-url ${PIP_INDEX}'), want: ['line 2'] },
    { name: 'a WORKDIR in between, the sources copied to an absolute path', text: dockerfile('FROM python:3.12-slim', 'COPY . /srv/app', 'WORKDIR /srv/app', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 2'] },
    { name: 'a WORKDIR in between, the sources copied to a relative path: no fix', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /srv', 'COPY . app', 'WORKDIR /srv/app', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 3, no fix'] },
    { name: 'an ARG in between that the sources\' COPY names: no fix', text: dockerfile('FROM python:3.12-slim', 'ARG APP=/srv/app', 'COPY . $APP', 'ARG APP=/opt/app', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 3, no fix'] },
    { name: 'a USER in between', text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY --chown=node:node . .', 'USER node', 'RUN npm ci'), want: ['line 3'] },
    { name: 'a system package install in between', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 2'] },
    { name: 'a RUN in between: no fix', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN ./prepare.sh', 'RUN npm ci'), want: ['line 2, no fix'] },
    { name: 'a system package install in between that reads the sources: no fix', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN apt-get install -y ./vendor/tool.deb', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 2, no fix'] },
    { name: 'a VOLUME in between: no fix', text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'VOLUME /app/data', 'RUN npm ci'), want: ['line 3, no fix'] },
    { name: 'an ENV between them', text: dockerfile('FROM node:20-slim', 'COPY . .', 'ENV PORT=3000', 'RUN npm ci'), want: ['line 2'] },
    // Negative cases.
    { name: 'already good: manifests, install, sources', text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY package*.json ./', 'RUN npm ci', 'COPY . .'), want: [] },
    { name: 'already good: manifests named one by one', text: dockerfile('FROM node:20-slim', 'COPY package.json package-lock.json ./', 'RUN npm ci', 'COPY . .'), want: [] },
    { name: 'already good: yarn', text: dockerfile('FROM node:20-slim', 'COPY package.json yarn.lock ./', 'RUN yarn install --frozen-lockfile', 'COPY . .'), want: [] },
    { name: 'already good: pip', text: dockerfile('FROM python:3.12-slim', 'COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt', 'COPY . .'), want: [] },
    { name: 'already good: poetry', text: dockerfile('FROM python:3.12-slim', 'COPY pyproject.toml poetry.lock ./', 'RUN poetry install --no-root', 'COPY . .'), want: [] },
    { name: 'already good: go', text: dockerfile('FROM golang:1.22', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .'), want: [] },
    { name: 'sources copied in another stage', text: dockerfile('FROM node:20-slim AS a', 'COPY . .', 'FROM node:20-slim', 'RUN npm ci'), want: [] },
    { name: 'a global tool install is not the dependency install', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN npm install -g typescript'), want: [] },
    { name: 'adding one package is not the dependency install', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN npm install express'), want: [] },
    { name: 'pip with requirements named by a variable', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install -r $REQUIREMENTS'), want: [] },
    { name: 'an ADD of a URL is not a source copy', text: dockerfile('FROM node:20-slim', 'ADD https://example.com/seed.tar.gz /tmp/', 'RUN npm ci'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN <<EOF', 'npm ci', 'EOF'), want: [] },
    {
      name: 'manifests bound in with --mount=type=bind',
      // Regression: flags are never parsed (see parseDockerfile), so the bind mount is not seen.
      text: dockerfile('FROM node:20-slim', 'COPY src ./src', 'RUN --mount=type=bind,source=package.json,target=package.json --mount=type=cache,target=/root/.npm npm ci'),
      want: [],
    },
    {
      name: 'COPY --from another stage is not a source copy',
      // Regression: flags are never parsed, so `COPY --from=build` counts as a copy from the context.
      text: dockerfile('FROM node:20-slim AS build', 'COPY package*.json ./', 'RUN npm ci', 'FROM node:20-slim', 'COPY --from=build /node_modules ./node_modules', 'COPY package*.json ./', 'RUN npm ci --omit=dev'),
      want: [],
    },
    {
      name: 'a COPY of named build files (setup.py, pyproject.toml) before pip install -r',
      // Regression: only the -r files count as manifests, so a COPY of setup.py/pyproject.toml plus
      // the requirements is taken for the sources (coqui-ai/TTS Dockerfile.dev line 33).
      text: dockerfile('FROM python:3.12-slim', 'WORKDIR /root', 'COPY setup.py pyproject.toml requirements.txt /root/', 'RUN pip install -r requirements.txt', 'COPY . /root'),
      want: [],
    },
    {
      name: 'an install that also builds cannot move above the sources',
      // Regression: the fix moves the whole RUN, so `npm run build` would run without the sources.
      text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN npm ci && npm run build'),
      want: ['line 2, no fix'],
    },
    // A COPY of the manifest between the sources and the install (the order goes wrong twice).
    { name: 'a COPY of requirements.txt between the sources and the install', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 3'] },
    { name: 'a COPY of package.json and its lock between the sources and npm ci', text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'COPY package.json package-lock.json ./', 'RUN npm ci'), want: ['line 3'] },
    { name: 'a COPY of the manifest outside the sources\' folder', text: dockerfile('FROM python:3.12-slim', 'COPY . /app', 'COPY requirements.txt /tmp/requirements.txt', 'RUN pip install --no-cache-dir -r /tmp/requirements.txt'), want: ['line 2'] },
    // Below the sources, requirements/prod.txt wins over the context's requirements.txt; above them, it would lose.
    { name: 'a COPY in between that puts another file where the sources put theirs: no fix', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'COPY requirements/prod.txt requirements.txt', 'RUN pip install --no-cache-dir -r requirements.txt'), want: ['line 2, no fix'] },
    { name: 'a COPY --from in between, outside the sources\' folder', text: dockerfile('FROM python:3.12-slim AS wheels', 'RUN pip wheel -w /wheels numpy', 'FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'COPY --from=wheels /wheels /wheels', 'RUN pip install --no-cache-dir --find-links /wheels -r requirements.txt'), want: ['line 5'] },
    { name: 'a COPY --from in between, into the sources\' folder: no fix', text: dockerfile('FROM node:20 AS assets', 'RUN mkdir /out', 'FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'COPY --from=assets /out ./public/', 'RUN npm ci'), want: ['line 5, no fix'] },
    { name: 'a second copy of a folder in between: no fix', text: dockerfile('FROM node:20-slim', 'COPY . .', 'COPY src/ ./src/', 'RUN npm ci'), want: ['line 2, no fix'] },
    // Installs of the project itself need the sources: found, never moved.
    { name: 'pip install .', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-cache-dir .'), want: ['line 3, no fix'] },
    { name: 'pip install -e .', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install -e .'), want: ['line 2, no fix'] },
    { name: 'pip install with extras, quoted', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN python -m pip install ".[server]"'), want: ['line 2, no fix'] },
    { name: 'pip install of a project in a subfolder', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install ./backend'), want: ['line 2, no fix'] },
    { name: 'requirements and the project in one pip install: no fix', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install -r requirements.txt -e .'), want: ['line 2, no fix'] },
    { name: 'python setup.py install', text: dockerfile('FROM python:3.12-slim', 'COPY . /src', 'RUN cd /src && python setup.py install'), want: ['line 2, no fix'] },
    { name: 'poetry install of the project', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN poetry install --only main'), want: ['line 2, no fix'] },
    { name: 'uv sync of the project', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN uv sync --frozen'), want: ['line 2, no fix'] },
    { name: 'uv sync without the project is a dependency install', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN uv sync --frozen --no-install-project'), want: ['line 2'] },
    { name: 'make install with requirements.txt in the context', text: dockerfile('FROM python:3.12-slim', 'COPY . /app', 'WORKDIR /app', 'RUN make install'), options: { exists: (p) => p === 'requirements.txt' }, want: ['line 2, no fix'] },
    { name: 'make install with no manifest seen in the context', text: dockerfile('FROM debian:bookworm', 'COPY . /src', 'RUN cd /src && ./configure && make && make install'), options: { exists: () => false }, want: [] },
    { name: 'make install, context unknown', text: dockerfile('FROM debian:bookworm', 'COPY . /src', 'RUN make -C /src install'), want: [] },
    { name: 'pip install . after the requirements were installed before the sources', text: dockerfile('FROM python:3.12-slim', 'COPY requirements.txt .', 'RUN pip install -r requirements.txt', 'COPY . .', 'RUN pip install --no-deps .'), want: [] },
    { name: 'pip install . after the requirements, --no-deps left out', text: dockerfile('FROM python:3.12-slim', 'COPY requirements.txt .', 'RUN pip install -r requirements.txt', 'COPY . .', 'RUN pip install .'), want: [] },
    { name: 'poetry install --only-root after poetry install --no-root', text: dockerfile('FROM python:3.12-slim', 'COPY pyproject.toml poetry.lock ./', 'RUN poetry install --no-root', 'COPY . .', 'RUN poetry install --only-root'), want: [] },
    { name: 'poetry install after the dependencies were installed in the stage it is built FROM', text: dockerfile('FROM python:3.12-slim AS deps', 'COPY pyproject.toml poetry.lock ./', 'RUN poetry install --no-root', 'FROM deps', 'COPY . .', 'RUN poetry install'), want: [] },
    { name: 'pip install . after the requirements were installed after the sources: that install\'s finding only', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install -r requirements.txt', 'RUN pip install --no-deps .'), want: ['line 2'] },
    { name: 'pip: requirements in two folders: no fix', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install -r requirements/base.txt -r deploy/extra.txt'), want: ['line 2, no fix'] },
    { name: 'pip: packages found in a folder among the sources: no fix', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-index --find-links ./wheels -r requirements.txt'), want: ['line 3, no fix'] },
    { name: 'pip: packages found in a folder outside the sources', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-index --find-links /wheels -r requirements.txt'), want: ['line 3'] },
    { name: 'pip: requirements and a wheel among the sources: a project install', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install -r requirements.txt dist/app-1.0-py3-none-any.whl'), want: ['line 3, no fix'] },
    { name: 'pip install of named packages is not a project install', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install gunicorn'), want: [] },
    { name: 'pip install of a wheel from another stage is not a project install', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install /wheels/app-1.0-py3-none-any.whl'), want: [] },
    { name: 'pip install of a path that cannot be placed is not reported', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install /wheels/app-1.0-py3-none-any.whl'), want: [] },
    { name: 'pip install of the sources by their path in the image', text: dockerfile('FROM python:3.12-slim', 'COPY . /build', 'RUN pip install /build/'), want: ['line 2, no fix'] },
    { name: 'pip install of a wheel built from the sources', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /build', 'COPY . .', 'RUN uv build && pip install dist/*.whl'), want: ['line 3, no fix'] },
  ]);

  describe('what the manifests say (read from the build context)', () => {
    const files = (map: Record<string, string>): AnalyzeOptions => ({ exists: (p) => p in map, read: (p) => map[p] });
    const npm = dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'RUN npm ci');
    const pip = dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-cache-dir -r requirements.txt');
    const cases: Array<{ name: string; text: string; files: Record<string, string>; want: string | undefined }> = [
      { name: 'a plain package.json: fixed', text: npm, files: { 'package.json': '{"dependencies":{"express":"^4"}}' }, want: undefined },
      { name: 'a prepare script', text: npm, files: { 'package.json': '{"scripts":{"prepare":"tsc"}}' }, want: 'package.json has a prepare script' },
      { name: 'a postinstall script', text: npm, files: { 'package.json': '{"scripts":{"postinstall":"node scripts/setup.js"}}' }, want: 'package.json has a postinstall script' },
      { name: 'other scripts do not run on install', text: npm, files: { 'package.json': '{"scripts":{"build":"tsc","start":"node ."}}' }, want: undefined },
      { name: 'workspaces', text: npm, files: { 'package.json': '{"workspaces":["packages/*"]}' }, want: 'package.json declares workspaces' },
      { name: 'a local package', text: npm, files: { 'package.json': '{"dependencies":{"shared":"file:packages/shared"}}' }, want: 'installs shared from a local path' },
      { name: 'a workspace: protocol', text: npm, files: { 'package.json': '{"dependencies":{"shared":"workspace:*"}}' }, want: 'installs shared from a local path' },
      // A tarball elsewhere in the image is not among the sources: the install reads it either way.
      { name: 'a package from a path in the image outside the sources: fixed', text: npm, files: { 'package.json': '{"dependencies":{"greeting":"file:/opt/pkgs/greeting-1.0.0.tgz"}}' }, want: undefined },
      { name: 'node_modules in the context, not ignored', text: npm, files: { 'package.json': '{}', node_modules: '' }, want: 'node_modules in the build context would overwrite the installed one' },
      { name: 'node_modules in the context, ignored', text: npm, files: { 'package.json': '{}', node_modules: '', '.dockerignore': '.git\n**/node_modules\n' }, want: undefined },
      { name: 'a package.json that is not JSON: no conclusion from it', text: npm, files: { 'package.json': '{ "name": ' }, want: undefined },
      { name: 'plain requirements: fixed', text: pip, files: { 'requirements.txt': 'flask==3.0.3\n# a comment\ngunicorn\n' }, want: undefined },
      { name: 'requirements that include another file', text: pip, files: { 'requirements.txt': '-r base.txt\nflask\n' }, want: 'requirements.txt includes another file (-r base.txt)' },
      { name: 'requirements that install the project', text: pip, files: { 'requirements.txt': 'flask\n-e .\n' }, want: 'requirements.txt installs from the sources (-e .)' },
      { name: 'requirements with a package among the sources', text: pip, files: { 'requirements.txt': 'mylib @ file:///app/libs/mylib\n' }, want: 'installs from the sources' },
      { name: 'requirements with a relative path', text: pip, files: { 'requirements.txt': './libs/mylib\n' }, want: 'installs from the sources' },
      { name: 'requirements with a wheel elsewhere in the image: fixed', text: pip, files: { 'requirements.txt': 'greeting @ file:///opt/pkgs/greeting-1.0-py3-none-any.whl\n' }, want: undefined },
      { name: 'go.mod replacing a module with a folder', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go mod download'), files: { 'go.mod': 'module x\nreplace example.com/y => ./y\n' }, want: 'go.mod replaces a module with a local folder' },
      { name: 'a Gemfile with gemspec', text: dockerfile('FROM ruby:3.3', 'COPY . .', 'RUN bundle install'), files: { Gemfile: "source 'https://rubygems.org'\ngemspec\n" }, want: 'gemspec' },
      { name: 'composer scripts', text: dockerfile('FROM composer:2', 'COPY . .', 'RUN composer install'), files: { 'composer.json': '{"scripts":{"post-install-cmd":["php artisan optimize"]}}' }, want: 'composer.json has scripts' },
      { name: 'composer scripts turned off', text: dockerfile('FROM composer:2', 'COPY . .', 'RUN composer install --no-scripts'), files: { 'composer.json': '{"scripts":{"post-install-cmd":["x"]},"autoload":{"psr-4":{"App\\\\":"src/"}}}' }, want: undefined },
      { name: 'maven modules', text: dockerfile('FROM maven:3', 'COPY . .', 'RUN mvn dependency:go-offline'), files: { 'pom.xml': '<project><modules><module>api</module></modules></project>' }, want: 'pom.xml has modules' },
      { name: 'poetry with package-mode = false installs dependencies only: fixed', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN poetry install'), files: { 'pyproject.toml': '[tool.poetry]\npackage-mode = false\n' }, want: undefined },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const [finding, ...more] = findingsOf(c.text, ID, files(c.files));
        assert.ok(finding);
        assert.equal(more.length, 0);
        if (c.want === undefined) assert.ok(finding.fix, `expected a fix, got: ${finding.message}`);
        else {
          assert.equal(finding.fix, undefined);
          assert.ok(finding.message.includes(c.want), finding.message);
        }
      });
    }
  });

  fixes(ID, [
    {
      name: 'npm: copies package*.json, installs, then copies the sources',
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'RUN npm ci', 'CMD ["node", "server.js"]'),
      title: 'Copy package*.json and install before the sources',
      want: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY package*.json ./', 'RUN npm ci', 'COPY . .', 'CMD ["node", "server.js"]'),
    },
    {
      name: 'comments above the install move with it, continuation lines stay, the COPY keeps its comment',
      text: dockerfile(
        'FROM node:20-slim',
        'WORKDIR /app',
        '# the sources',
        'COPY . .',
        '# install the dependencies,',
        '# quietly',
        'RUN npm ci \\',
        '    --no-audit \\',
        '    --no-fund',
        'EXPOSE 3000',
      ),
      want: dockerfile(
        'FROM node:20-slim',
        'WORKDIR /app',
        'COPY package*.json ./',
        '# install the dependencies,',
        '# quietly',
        'RUN npm ci \\',
        '    --no-audit \\',
        '    --no-fund',
        '# the sources',
        'COPY . .',
        'EXPOSE 3000',
      ),
    },
    {
      name: 'pip: copies the requirements file; a LABEL in between keeps its place above the install',
      text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'LABEL org.opencontainers.image.title=app', 'RUN pip install --no-cache-dir -r requirements.txt', 'CMD ["python", "app.py"]'),
      title: 'Copy requirements.txt and install before the sources',
      want: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'LABEL org.opencontainers.image.title=app', 'COPY requirements.txt ./', 'RUN pip install --no-cache-dir -r requirements.txt', 'COPY . .', 'CMD ["python", "app.py"]'),
    },
    {
      name: 'the manifests go to the source copy\'s destination',
      text: dockerfile('FROM python:3.12-slim', 'WORKDIR /srv/app', 'COPY . /srv/app', 'RUN pip install --no-cache-dir -r requirements.txt'),
      want: dockerfile('FROM python:3.12-slim', 'WORKDIR /srv/app', 'COPY requirements.txt /srv/app/', 'RUN pip install --no-cache-dir -r requirements.txt', 'COPY . /srv/app'),
    },
    {
      name: 'go: the optional go.sum is named only when it exists',
      text: dockerfile('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY . .', 'RUN go mod download', 'RUN go build -o /out/app .', 'FROM gcr.io/distroless/static', 'COPY --from=build /out/app /app'),
      options: { exists: (p) => p === 'go.sum' },
      title: 'Copy go.mod, go.sum and install before the sources',
      want: dockerfile('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /out/app .', 'FROM gcr.io/distroless/static', 'COPY --from=build /out/app /app'),
    },
    {
      name: 'go: without go.sum in the context only go.mod is copied',
      text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go mod download'),
      want: dockerfile('FROM golang:1.22', 'COPY go.mod ./', 'RUN go mod download', 'COPY . .'),
    },
    {
      name: 'manifests already copied: only the install moves',
      text: dockerfile('FROM golang:1.22', 'COPY go.mod go.sum ./', 'COPY . .', 'RUN go mod download'),
      title: 'Install before copying the sources',
      want: dockerfile('FROM golang:1.22', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .'),
    },
    {
      name: 'JSON-form RUN moves as written',
      text: dockerfile('FROM node:20-slim', 'COPY . .', 'RUN ["npm", "ci"]'),
      want: dockerfile('FROM node:20-slim', 'COPY package*.json ./', 'RUN ["npm", "ci"]', 'COPY . .'),
    },
    {
      name: 'the manifest COPY keeps the --chown of the source copy',
      // Regression: flags are never parsed, so --chown is lost and node_modules' owner changes.
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY --chown=node:node . .', 'RUN npm ci'),
      want: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY --chown=node:node package*.json ./', 'RUN npm ci', 'COPY --chown=node:node . .'),
    },
    {
      name: 'sources copied from a subdirectory: the manifests come from it too',
      // Regression: the fix copies ./package*.json from the context root, while the install reads
      // react-app/package.json (dockersamples/atsea-sample-shop-app line 4): wrong or missing file.
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY react-app .', 'RUN npm install'),
      want: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY react-app/package*.json ./', 'RUN npm install', 'COPY react-app .'),
    },
    {
      name: 'a COPY of the manifest already between the sources and the install stays; the sources go below the install',
      text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', '# everything', 'COPY . .', 'COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt', 'CMD ["python", "app.py"]'),
      title: 'Install before copying the sources',
      want: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements.txt .', 'RUN pip install --no-cache-dir -r requirements.txt', '# everything', 'COPY . .', 'CMD ["python", "app.py"]'),
    },
    {
      name: 'an ENV in between stays above the install',
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'ENV NODE_ENV=production', 'RUN npm ci', 'CMD ["node", "server.js"]'),
      want: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'ENV NODE_ENV=production', 'COPY package*.json ./', 'RUN npm ci', 'COPY . .', 'CMD ["node", "server.js"]'),
    },
    {
      name: 'a WORKDIR in between: the manifests go where the sources went',
      text: dockerfile('FROM python:3.12-slim', 'COPY . /srv/app', 'WORKDIR /srv/app', 'RUN pip install --no-cache-dir -r requirements.txt'),
      want: dockerfile('FROM python:3.12-slim', 'WORKDIR /srv/app', 'COPY requirements.txt /srv/app/', 'RUN pip install --no-cache-dir -r requirements.txt', 'COPY . /srv/app'),
    },
    {
      name: 'a USER in between: the install still runs as that user, the sources keep their owner',
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY --chown=node:node . .', 'USER node', 'RUN npm ci'),
      want: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'USER node', 'COPY --chown=node:node package*.json ./', 'RUN npm ci', 'COPY --chown=node:node . .'),
    },
    {
      name: 'npm: .npmrc is copied with the manifests when it is there',
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'RUN npm ci'),
      options: { exists: (p) => ['package.json', 'package-lock.json', '.npmrc'].includes(p) },
      title: 'Copy package*.json, .npmrc and install before the sources',
      want: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY package*.json .npmrc ./', 'RUN npm ci', 'COPY . .'),
    },
    {
      name: 'pip: a requirements file in a subfolder keeps its folder',
      text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-cache-dir -r requirements/prod.txt'),
      title: 'Copy requirements/prod.txt and install before the sources',
      want: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements/prod.txt ./requirements/', 'RUN pip install --no-cache-dir -r requirements/prod.txt', 'COPY . .'),
    },
    {
      name: 'pip: a constraints file is a manifest too',
      text: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt'),
      want: dockerfile('FROM python:3.12-slim', 'WORKDIR /app', 'COPY requirements.txt constraints.txt ./', 'RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt', 'COPY . .'),
    },
    {
      name: 'the install on the last line of a file without a final newline',
      text: 'FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt',
      want: 'FROM python:3.12-slim\nCOPY requirements.txt ./\nRUN pip install -r requirements.txt\nCOPY . .',
    },
    {
      name: 'a COPY --from in between stays above the install',
      text: dockerfile('FROM python:3.12-slim AS wheels', 'RUN pip wheel -w /wheels numpy', 'FROM python:3.12-slim', 'WORKDIR /app', 'COPY . .', 'COPY --from=wheels /wheels /wheels', 'RUN pip install --no-cache-dir --find-links /wheels -r requirements.txt'),
      want: dockerfile('FROM python:3.12-slim AS wheels', 'RUN pip wheel -w /wheels numpy', 'FROM python:3.12-slim', 'WORKDIR /app', 'COPY --from=wheels /wheels /wheels', 'COPY requirements.txt ./', 'RUN pip install --no-cache-dir --find-links /wheels -r requirements.txt', 'COPY . .'),
    },
  ]);

  it('offers no fix when pip names the requirements by their path in the image', () => {
    // `-r /app/requirements.txt` is a path in the image, not in the context: no guessing.
    const [finding] = findingsOf(dockerfile('FROM python:3.12-slim', 'COPY . /app', 'RUN pip install --no-cache-dir -r /app/requirements.txt'), ID);
    assert.ok(finding);
    assert.equal(finding.fix, undefined);
    assert.match(finding.message, /named by its path in the image/);
  });

  it('does not move the install above an ENV that changes what it installs', () => {
    // Regression: movableAcross only looks for `$NAME` in the command, but ENV and ARG values reach the
    // install as environment variables: moving `npm ci` above `ENV NODE_ENV=production` installs the
    // devDependencies too. Either no fix, or a fix that keeps the ENV above the install.
    const text = dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'ENV NODE_ENV=production', 'RUN npm ci');
    const [finding] = findingsOf(text, ID);
    assert.ok(finding);
    if (!finding.fix) return;
    const fixed = applyFix(text, finding);
    assert.ok(lineOf(fixed, 'ENV NODE_ENV') < lineOf(fixed, 'RUN npm ci'), `the ENV must stay above the install:\n${fixed}`);
  });
});

describe('dependency-step-missing', () => {
  const ID = 'dependency-step-missing';
  const goFiles: AnalyzeOptions = { exists: (p) => ['go.mod', 'go.sum'].includes(p) };
  finds(ID, [
    { name: 'cargo build right after COPY . .', text: dockerfile('FROM rust:1.80 AS build', 'WORKDIR /app', 'COPY . .', 'RUN cargo build --release'), want: ['line 3, no fix'] },
    { name: 'cargo install of the project', text: dockerfile('FROM rust:1.80', 'COPY . .', 'RUN cargo install --path . --locked'), want: ['line 2, no fix'] },
    { name: 'cargo build after the manifests and the sources, with no dependency build between', text: dockerfile('FROM rust:1.80', 'COPY Cargo.toml Cargo.lock ./', 'COPY src src', 'RUN cargo build --release'), want: ['line 3, no fix'] },
    { name: 'go build right after COPY . .', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN CGO_ENABLED=0 go build -o /out/app .'), want: ['line 3'] },
    { name: 'go install of the project', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN go install ./cmd/...'), want: ['line 3'] },
    { name: 'mvn package', text: dockerfile('FROM maven:3-eclipse-temurin-21', 'WORKDIR /app', 'COPY . .', 'RUN mvn -B package -DskipTests'), want: ['line 3, no fix'] },
    { name: 'the Maven wrapper', text: dockerfile('FROM eclipse-temurin:21-jdk', 'WORKDIR /app', 'COPY . .', 'RUN ./mvnw clean package'), want: ['line 3, no fix'] },
    { name: 'gradle build', text: dockerfile('FROM gradle:8-jdk21', 'COPY . /home/gradle/src', 'WORKDIR /home/gradle/src', 'RUN gradle build --no-daemon'), want: ['line 2, no fix'] },
    { name: 'the Gradle wrapper, a module task', text: dockerfile('FROM eclipse-temurin:21-jdk', 'WORKDIR /app', 'COPY . .', 'RUN ./gradlew :server:bootJar'), want: ['line 3, no fix'] },
    { name: 'sources copied in the stage this one is built FROM', text: dockerfile('FROM gradle:8-jdk21 AS sources', 'WORKDIR /app', 'COPY src src', 'COPY build.gradle settings.gradle ./', 'FROM sources AS build', 'RUN gradle build -x test'), want: ['line 3, no fix'] },
    { name: 'Go, sources copied in the stage this one is built FROM: no fix', text: dockerfile('FROM golang:1.22 AS src', 'WORKDIR /src', 'COPY . .', 'FROM src AS build', 'RUN go build -o /app .'), want: ['line 3, no fix'] },
    { name: 'the Gradle wrapper\'s folder is not the sources', text: dockerfile('FROM gradle:8-jdk21', 'COPY src /app/src', 'COPY gradle /app/gradle', 'COPY build.gradle gradlew settings.gradle /app/', 'WORKDIR /app', 'RUN ./gradlew build -x test'), want: ['line 2, no fix'] },
    { name: 'a Cargo workspace: its members have the dependencies', text: dockerfile('FROM rust:1.80', 'COPY . .', 'RUN cargo build --release'), options: { exists: (p) => p === 'Cargo.toml', read: (p) => (p === 'Cargo.toml' ? '[workspace]\nmembers = ["server"]\n' : undefined) }, want: ['line 2, no fix'] },
    { name: 'Maven: src/ copied, pom.xml at the context root', text: dockerfile('FROM maven:3', 'COPY src /home/app/src', 'COPY pom.xml /home/app', 'RUN mvn -f /home/app/pom.xml clean package'), options: { exists: (p) => ['pom.xml', 'src'].includes(p) }, want: ['line 2, no fix'] },
    { name: 'once per language and stage', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build ./cmd/a', 'RUN go build ./cmd/b'), want: ['line 2'] },
    { name: 'in each stage that does it', text: dockerfile('FROM golang:1.22 AS a', 'COPY . .', 'RUN go build ./cmd/a', 'FROM rust:1.80 AS b', 'COPY . .', 'RUN cargo build'), want: ['line 2', 'line 5, no fix'] },
    // Negative cases.
    { name: 'cargo-chef: the dependencies are cooked before the sources', text: dockerfile('FROM rust:1.80 AS chef', 'RUN cargo install cargo-chef', 'WORKDIR /app', 'FROM chef AS planner', 'COPY . .', 'RUN cargo chef prepare --recipe-path recipe.json', 'FROM chef AS builder', 'COPY --from=planner /app/recipe.json recipe.json', 'RUN cargo chef cook --release --recipe-path recipe.json', 'COPY . .', 'RUN cargo build --release'), want: [] },
    { name: 'cargo: a build of the manifests with a stub main.rs first', text: dockerfile('FROM rust:1.80', 'WORKDIR /app', 'COPY Cargo.toml Cargo.lock ./', 'RUN mkdir src && echo "fn main() {}" > src/main.rs && cargo build --release && rm -rf src', 'COPY . .', 'RUN cargo build --release'), want: [] },
    { name: 'cargo: dependencies built in the stage this one is built FROM', text: dockerfile('FROM rust:1.80 AS deps', 'COPY Cargo.toml Cargo.lock ./', 'RUN cargo fetch', 'FROM deps AS build', 'COPY . .', 'RUN cargo build --release'), want: [] },
    { name: 'cargo: the target folder from a caching stage', text: dockerfile('FROM rust:1.80 AS cacher', 'RUN true', 'FROM rust:1.80', 'COPY --from=cacher /app/target target', 'COPY . .', 'RUN cargo build --release'), want: [] },
    { name: 'cargo --offline (vendored)', text: dockerfile('FROM rust:1.80', 'COPY . .', 'RUN cargo build --release --offline'), want: [] },
    { name: 'go mod download before the sources', text: dockerfile('FROM golang:1.22', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app .'), want: [] },
    { name: 'go mod download after the sources is deps-before-sources\' finding', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go mod download', 'RUN go build -o /app .'), want: [] },
    { name: 'a cache mount on the module cache', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN --mount=type=cache,target=/go/pkg/mod go build -o /app .'), want: [] },
    { name: 'the sources bound in, not copied', text: dockerfile('FROM golang:1.22', 'COPY go.mod go.sum ./', 'RUN --mount=type=bind,target=. go build -o /app .'), want: [] },
    { name: 'go -mod=vendor', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -mod=vendor -o /app .'), want: [] },
    { name: 'GOFLAGS=-mod=vendor in an ENV', text: dockerfile('FROM golang:1.22', 'ENV GOFLAGS=-mod=vendor', 'COPY . .', 'RUN go build -o /app .'), want: [] },
    { name: 'vendored modules in the context', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -o /app .'), options: { exists: (p) => ['go.mod', 'vendor/modules.txt'].includes(p) }, want: [] },
    { name: 'no go.mod in the context', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -o /app .'), options: { exists: () => false }, want: [] },
    { name: 'a go.mod that requires nothing', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -o /app .'), options: { exists: (p) => p === 'go.mod', read: (p) => (p === 'go.mod' ? 'module example.com/app\n\ngo 1.22\n' : undefined) }, want: [] },
    { name: 'a Cargo.toml without dependencies', text: dockerfile('FROM rust:1.80', 'COPY . .', 'RUN cargo build --release'), options: { exists: (p) => p === 'Cargo.toml', read: (p) => (p === 'Cargo.toml' ? '[package]\nname = "x"\nversion = "0.1.0"\n' : undefined) }, want: [] },
    { name: 'a tool installed with go install name@version', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go install golang.org/x/tools/cmd/goimports@latest'), want: [] },
    { name: 'mvn dependency:go-offline before the sources', text: dockerfile('FROM maven:3', 'COPY pom.xml .', 'RUN mvn -B dependency:go-offline', 'COPY src ./src', 'RUN mvn -B package'), want: [] },
    { name: 'mvn offline', text: dockerfile('FROM maven:3', 'COPY . .', 'RUN mvn -o package'), want: [] },
    { name: 'a custom Gradle task that fetches, before the sources', text: dockerfile('FROM eclipse-temurin:21-jdk', 'WORKDIR /app', 'COPY build.gradle gradlew ./', 'COPY gradle gradle', 'RUN ./gradlew downloadRepos', 'COPY . .', 'RUN ./gradlew installDist'), want: [] },
    { name: 'sources copied in another stage', text: dockerfile('FROM golang:1.22 AS src', 'COPY . .', 'FROM golang:1.22', 'RUN go build -o /app .'), want: [] },
  ]);

  const why = (text: string, options: AnalyzeOptions = {}): string => findingsOf(text, ID, options).map((f) => (f.fix ? 'fixed' : f.message.replace(/.*Not fixed automatically: /, ''))).join('; ');
  describe('when the Go fix is not offered', () => {
    const cases: Array<{ name: string; text: string; options?: AnalyzeOptions; want: RegExp }> = [
      { name: 'the build cds elsewhere', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN cd cmd/app && go build -o /app .'), want: /runs in another folder/ },
      { name: 'go -C', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN go build -C cmd/app -o /app .'), want: /runs in another folder/ },
      { name: 'the sources go elsewhere than where the build runs', text: dockerfile('FROM golang:1.22', 'WORKDIR /build', 'COPY . /src', 'RUN go build -o /app /src/...'), want: /does not run in the folder the sources are copied to/ },
      { name: 'an ENV between the sources and the build', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'ENV GOPROXY=https://proxy.example.com', 'RUN go build -o /app .'), want: /the ENV at line 4/ },
      // The download would run where the sources' COPY runs, not in /src.
      { name: 'a WORKDIR between the sources and the build', text: dockerfile('FROM golang:1.22', 'COPY . /src', 'WORKDIR /src', 'RUN go build -o /app .'), want: /does not run in the folder the sources are copied to/ },
      { name: 'a USER between the sources and the build', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'USER 1000', 'RUN go build -o /tmp/app .'), want: /the USER at line 4/ },
      { name: 'fetch settings on the build\'s command line', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN GOPRIVATE=example.com/* go build -o /app .'), want: /settings of its own/ },
      { name: 'a secret mount for private modules', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN --mount=type=secret,id=netrc,target=/root/.netrc go build -o /app .'), want: /settings of its own/ },
      { name: 'a go.work in the context', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -o /app ./cmd/app'), options: { exists: (p) => ['go.mod', 'go.work'].includes(p) }, want: /go\.work/ },
      { name: 'go.mod replaces a module with a folder', text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -o /app .'), options: { exists: (p) => p === 'go.mod', read: (p) => (p === 'go.mod' ? 'module x\n\nrequire example.com/y v1.0.0\n\nreplace example.com/y => ../y\n' : undefined) }, want: /replaces a module with a local folder/ },
      { name: 'several sources', text: dockerfile('FROM golang:1.22', 'COPY cmd internal ./', 'RUN go build -o /app ./cmd/app'), want: /several places/ },
      { name: 'a working directory named by a variable', text: dockerfile('FROM golang:1.22', 'WORKDIR $GOPATH/src/app', 'COPY . .', 'RUN go build -o /app .'), want: /named by a variable/ },
    ];
    for (const c of cases) it(c.name, () => assert.match(why(c.text, c.options), c.want));
  });

  fixes(ID, [
    {
      name: 'go: go.mod and go.sum, then go mod download, above the sources and their comment',
      text: dockerfile('FROM golang:1.22 AS build', 'WORKDIR /src', '# the sources', 'COPY . .', 'RUN CGO_ENABLED=0 go build -o /out/app .', 'FROM gcr.io/distroless/static', 'COPY --from=build /out/app /app'),
      options: goFiles,
      title: 'Copy go.mod, go.sum and download the modules before the sources',
      want: dockerfile('FROM golang:1.22 AS build', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', '# the sources', 'COPY . .', 'RUN CGO_ENABLED=0 go build -o /out/app .', 'FROM gcr.io/distroless/static', 'COPY --from=build /out/app /app'),
    },
    {
      name: 'go: without go.sum seen, only go.mod',
      text: dockerfile('FROM golang:1.22', 'COPY . .', 'RUN go build -o /app .'),
      want: dockerfile('FROM golang:1.22', 'COPY go.mod ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app .'),
    },
    {
      name: 'go: manifests already copied, only the download is added',
      text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'COPY . .', 'RUN go build -o /app .'),
      options: goFiles,
      title: 'Download the modules before copying the sources',
      want: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY go.mod go.sum ./', 'RUN go mod download', 'COPY . .', 'RUN go build -o /app .'),
    },
    {
      name: 'go: the sources from a folder, with --chown, to the working directory by its path',
      text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY --chown=1000:1000 backend/ /src', 'RUN go build -o /tmp/app .'),
      options: { exists: (p) => ['backend/go.mod', 'backend/go.sum'].includes(p) },
      want: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY --chown=1000:1000 backend/go.mod backend/go.sum /src/', 'RUN go mod download', 'COPY --chown=1000:1000 backend/ /src', 'RUN go build -o /tmp/app .'),
    },
  ]);
});

describe('expensive-after-sources', () => {
  const ID = 'expensive-after-sources';
  const aptInstall = 'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*';
  finds(ID, [
    { name: 'apt-get install after COPY . .', text: dockerfile('FROM debian:bookworm-slim', 'COPY . /app', aptInstall), want: ['line 3'] },
    { name: 'apk add', text: dockerfile('FROM alpine:3.20', 'COPY . /app', 'RUN apk add --no-cache curl'), want: ['line 3'] },
    { name: 'apk update and add', text: dockerfile('FROM alpine:3.20', 'COPY . /app', 'RUN apk update && apk add curl'), want: ['line 3'] },
    { name: 'dnf install and clean', text: dockerfile('FROM fedora:40', 'COPY . /app', 'RUN dnf install -y curl && dnf clean all'), want: ['line 3'] },
    { name: 'yum install', text: dockerfile('FROM centos:7', 'COPY . /app', 'RUN yum install -y curl'), want: ['line 3'] },
    { name: 'zypper install', text: dockerfile('FROM opensuse/leap:15.6', 'COPY . /app', 'RUN zypper install -y curl'), want: ['line 3'] },
    { name: 'npm install -g', text: dockerfile('FROM node:22-alpine', 'COPY package.json pnpm-lock.yaml ./', 'RUN npm install -g pnpm', 'RUN pnpm install --frozen-lockfile'), want: ['line 3'] },
    { name: 'gem install', text: dockerfile('FROM ruby:3.3', 'COPY . /app', 'RUN gem install bundler'), want: ['line 3'] },
    { name: 'JSON-form RUN', text: dockerfile('FROM alpine:3.20', 'COPY . /app', 'RUN ["apk", "add", "--no-cache", "curl"]'), want: ['line 3'] },
    { name: 'multi-line install', text: dockerfile('FROM debian:bookworm-slim', 'COPY . /app', 'RUN apt-get update \\', '    && apt-get install -y --no-install-recommends curl \\', '    && rm -rf /var/lib/apt/lists/*'), want: ['line 3'] },
    { name: 'an install with a cache mount is still expensive', text: dockerfile('FROM debian:bookworm-slim', 'COPY . /app', 'RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl'), want: ['line 3'] },
    { name: 'only the first install of a stage', text: dockerfile('FROM alpine:3.20', 'COPY . /app', 'RUN apk add --no-cache curl', 'RUN apk add --no-cache git'), want: ['line 3'] },
    { name: 'uses a copied package file: no fix', text: dockerfile('FROM debian:bookworm-slim', 'COPY pkgs/ /tmp/pkgs/', 'RUN apt-get install -y /tmp/pkgs/tool.deb'), want: ['line 3, no fix'] },
    { name: 'refers to ./: no fix', text: dockerfile('FROM debian:bookworm-slim', 'COPY . .', 'RUN apt-get install -y ./tool.deb'), want: ['line 3, no fix'] },
    { name: 'an ARG it uses sits in between: no fix', text: dockerfile('FROM debian:bookworm-slim', 'COPY . /app', 'ARG CURL_VERSION', 'RUN apt-get update && apt-get install -y --no-install-recommends curl=${CURL_VERSION} && rm -rf /var/lib/apt/lists/*'), want: ['line 4, no fix'] },
    { name: 'a RUN in between: no fix', text: dockerfile('FROM alpine:3.20', 'COPY . /app', 'RUN make -C /app', 'RUN apk add --no-cache curl'), want: ['line 4, no fix'] },
    {
      name: 'a comment line inside the continuation',
      // Regression: the comment line stays in the command text and reads as a command that is not an
      // install, so the RUN is skipped (see parseDockerfile).
      text: dockerfile('FROM debian:bookworm-slim', 'COPY . /app', 'RUN apt-get update && \\', '    # for the healthcheck', '    apt-get install -y --no-install-recommends curl && \\', '    rm -rf /var/lib/apt/lists/*'),
      want: ['line 3'],
    },
    // Negative cases.
    { name: 'already good: install, then sources', text: dockerfile('FROM debian:bookworm-slim', aptInstall, 'COPY . /app'), want: [] },
    { name: 'sources copied in another stage', text: dockerfile('FROM debian:bookworm-slim AS src', 'COPY . /app', 'FROM debian:bookworm-slim', aptInstall), want: [] },
    { name: 'an install that also builds', text: dockerfile('FROM debian:bookworm-slim', 'COPY . /app', 'RUN apt-get update && apt-get install -y --no-install-recommends make && make -C /app'), want: [] },
    { name: 'a dependency install is deps-before-sources\' finding', text: dockerfile('FROM python:3.12-slim', 'COPY . .', 'RUN pip install --no-cache-dir -r requirements.txt'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM alpine:3.20', 'COPY . /app', 'RUN <<EOF', 'apk add --no-cache curl', 'EOF'), want: [] },
    { name: 'an ADD of a URL is not a source copy', text: dockerfile('FROM alpine:3.20', 'ADD https://example.com/tool.tar.gz /tmp/', 'RUN apk add --no-cache curl'), want: [] },
    {
      name: 'COPY --from another stage is not a source copy',
      // Regression: flags are never parsed, so `COPY --from=build` counts as a copy from the context
      // (AbdBarho stable-diffusion-webui-docker line 50; huggingface/text-generation-inference names line 163).
      text: dockerfile('FROM golang:1.22 AS build', 'RUN go version', 'FROM debian:bookworm-slim', 'COPY --from=build /usr/local/go/bin/go /usr/local/bin/go', aptInstall),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'moves the install, its comment and its continuation lines above the COPY',
      text: dockerfile(
        'FROM python:3.12-slim',
        'WORKDIR /app',
        'COPY . .',
        '# system packages for the app',
        'RUN apt-get update \\',
        '    && apt-get install -y --no-install-recommends libpq5 \\',
        '    && rm -rf /var/lib/apt/lists/*',
        'CMD ["python", "app.py"]',
      ),
      title: 'Move before the sources are copied',
      want: dockerfile(
        'FROM python:3.12-slim',
        'WORKDIR /app',
        '# system packages for the app',
        'RUN apt-get update \\',
        '    && apt-get install -y --no-install-recommends libpq5 \\',
        '    && rm -rf /var/lib/apt/lists/*',
        'COPY . .',
        'CMD ["python", "app.py"]',
      ),
    },
    {
      name: 'moves above the COPY\'s own comment; LABEL and EXPOSE stay put',
      text: dockerfile('FROM alpine:3.20', '# the app', 'COPY app /opt/app', 'LABEL org.opencontainers.image.title=app', 'EXPOSE 8080', 'RUN apk add --no-cache curl'),
      want: dockerfile('FROM alpine:3.20', 'RUN apk add --no-cache curl', '# the app', 'COPY app /opt/app', 'LABEL org.opencontainers.image.title=app', 'EXPOSE 8080'),
    },
    {
      name: 'a global tool install moves above the manifest copy',
      text: dockerfile('FROM node:22-alpine', 'WORKDIR /app', 'COPY package.json pnpm-lock.yaml ./', 'RUN npm install -g pnpm', 'RUN pnpm install --frozen-lockfile'),
      want: dockerfile('FROM node:22-alpine', 'WORKDIR /app', 'RUN npm install -g pnpm', 'COPY package.json pnpm-lock.yaml ./', 'RUN pnpm install --frozen-lockfile'),
    },
    {
      name: 'the last line of a file without a final newline',
      text: 'FROM alpine:3.20\nCOPY . /app\nRUN apk add --no-cache curl',
      want: 'FROM alpine:3.20\nRUN apk add --no-cache curl\nCOPY . /app\n',
    },
  ]);
});

describe('apt-update-alone', () => {
  const ID = 'apt-update-alone';
  finds(ID, [
    { name: 'update, then install in the next RUN', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', 'RUN apt-get install -y --no-install-recommends curl'), want: ['line 2'] },
    { name: 'apt instead of apt-get', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt update', 'RUN apt install -y --no-install-recommends curl'), want: ['line 2'] },
    { name: 'update and upgrade, no install', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get upgrade -y', 'RUN apt-get install -y --no-install-recommends curl'), want: ['line 2'] },
    { name: 'update alone at the end: no fix', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update'), want: ['line 2, no fix'] },
    { name: 'next instruction not a RUN: no fix', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', 'ENV DEBIAN_FRONTEND=noninteractive', 'RUN apt-get install -y --no-install-recommends curl'), want: ['line 2, no fix'] },
    { name: 'next RUN installs nothing: no fix', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', 'RUN echo done'), want: ['line 2, no fix'] },
    { name: 'next RUN has a comment of its own: no fix', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', '# tools', 'RUN apt-get install -y --no-install-recommends curl'), want: ['line 2, no fix'] },
    {
      name: 'next RUN has a --mount flag: no fix',
      // Regression: flags are never parsed, so the merge pastes `--mount=...` after `&&` (broken shell).
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', 'RUN --mount=type=cache,target=/var/cache/apt apt-get install -y --no-install-recommends curl'),
      want: ['line 2, no fix'],
    },
    {
      name: 'quiet update (apt-get -qq update)',
      // Regression: `update` is looked for only right after apt-get, so `apt-get -qq update` is missed.
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get -qq update', 'RUN apt-get -qq install -y --no-install-recommends curl'),
      want: ['line 2'],
    },
    // Negative cases.
    { name: 'update and install in one RUN', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl'), want: [] },
    { name: 'update and install on continuation lines', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update \\', '    && apt-get install -y --no-install-recommends \\', '        curl'), want: [] },
    { name: 'semicolon style (set -eux)', text: dockerfile('FROM debian:bookworm-slim', 'RUN set -eux; \\', '    apt-get update; \\', '    apt-get install -y --no-install-recommends curl; \\', '    rm -rf /var/lib/apt/lists/*'), want: [] },
    { name: 'no update at all', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get install -y --no-install-recommends curl'), want: [] },
    { name: 'JSON-form RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN ["apt-get", "update"]'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN <<EOF', 'apt-get update', 'EOF', 'RUN apt-get install -y --no-install-recommends curl'), want: [] },
    {
      name: 'install inside a for loop of the same RUN',
      // Regression: `do apt-get install` keeps its `do`, so the install is not seen and the update is
      // reported alone (nginxinc/docker-nginx modules/Dockerfile line 73). words() should drop
      // shell keywords (do, then, else, elif, `{`, `(`, `!`).
      text: dockerfile(
        'FROM debian:bookworm-slim',
        'RUN apt-get update \\',
        '    && for p in curl git; do \\',
        '         apt-get install -y --no-install-recommends "$p"; \\',
        '       done \\',
        '    && rm -rf /var/lib/apt/lists/*',
      ),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'merges the next RUN in',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', 'RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*', 'USER nobody'),
      title: 'Merge with the next RUN',
      want: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update \\', '    && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*', 'USER nobody'),
    },
    {
      name: 'keeps the comment above the update and the continuation lines of the install',
      text: dockerfile(
        'FROM debian:bookworm-slim',
        '# refresh the indexes',
        'RUN apt-get update && apt-get upgrade -y',
        'RUN apt-get install -y --no-install-recommends \\',
        '        ca-certificates \\',
        '        curl \\',
        '    && rm -rf /var/lib/apt/lists/*',
        'USER nobody',
      ),
      want: dockerfile(
        'FROM debian:bookworm-slim',
        '# refresh the indexes',
        'RUN apt-get update && apt-get upgrade -y \\',
        '    && apt-get install -y --no-install-recommends \\',
        '        ca-certificates \\',
        '        curl \\',
        '    && rm -rf /var/lib/apt/lists/*',
        'USER nobody',
      ),
    },
    {
      name: 'an update on continuation lines gets the install after its last line',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update \\', '    && apt-get upgrade -y', 'RUN apt-get install -y --no-install-recommends curl'),
      want: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update \\', '    && apt-get upgrade -y \\', '    && apt-get install -y --no-install-recommends curl'),
    },
  ]);
});

describe('apt-no-recommends', () => {
  const ID = 'apt-no-recommends';
  finds(ID, [
    { name: 'apt-get install -y', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*'), want: ['line 2'] },
    { name: 'apt install', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt update && apt install -y curl'), want: ['line 2'] },
    { name: 'in a stage the final one builds on', text: dockerfile('FROM debian:bookworm-slim AS base', 'RUN apt-get update && apt-get install -y curl', 'FROM base'), want: ['line 2'] },
    {
      name: 'a second install without the flag',
      // Regression: only the first install of the RUN is checked (pytorch/serve docker/Dockerfile line 233).
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && apt-get install -y git'),
      want: ['line 2'],
    },
    // Negative cases.
    { name: 'with --no-install-recommends', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl'), want: [] },
    { name: 'with the flag after the packages', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get install -y curl --no-install-recommends'), want: [] },
    { name: 'with -o APT::Install-Recommends=false', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get install -y -o APT::Install-Recommends=false curl'), want: [] },
    { name: 'no install', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get upgrade -y'), want: [] },
    { name: 'JSON-form RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN ["apt-get", "install", "-y", "curl"]'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN <<EOF', 'apt-get install -y curl', 'EOF'), want: [] },
    {
      name: 'a build stage that is neither final nor built on',
      // Regression: size rules should skip stages that never ship, as apt-lists-left, pip-no-cache and
      // dnf-no-clean do (ollama lines 159/179, qdrant line 42, pytorch/serve line 40).
      text: dockerfile('FROM debian:bookworm-slim AS build', 'RUN apt-get update && apt-get install -y gcc', 'FROM debian:bookworm-slim', 'COPY --from=build /out /app'),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'adds the flag right after install',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*'),
      title: 'Add --no-install-recommends',
      want: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install --no-install-recommends -y curl && rm -rf /var/lib/apt/lists/*'),
    },
    {
      name: 'options before install, continuation lines',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update \\', '    && apt-get -y install \\', '        curl \\', '    && rm -rf /var/lib/apt/lists/*'),
      want: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update \\', '    && apt-get -y install --no-install-recommends \\', '        curl \\', '    && rm -rf /var/lib/apt/lists/*'),
    },
    {
      name: 'apt install',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt update && apt install -y curl'),
      want: dockerfile('FROM debian:bookworm-slim', 'RUN apt update && apt install --no-install-recommends -y curl'),
    },
  ]);
});

describe('apt-lists-left', () => {
  const ID = 'apt-lists-left';
  finds(ID, [
    { name: 'update and install, lists kept', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl'), want: ['line 2'] },
    { name: 'lists removed only in a later RUN', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl', 'RUN rm -rf /var/lib/apt/lists/*'), want: ['line 2'] },
    { name: 'in a stage the final one builds on', text: dockerfile('FROM debian:bookworm-slim AS base', 'RUN apt-get update && apt-get install -y --no-install-recommends curl', 'FROM base'), want: ['line 2'] },
    { name: 'a cache mount on /var/cache/apt only (hadolint DL3009 too)', text: dockerfile('FROM debian:bookworm-slim', 'RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y --no-install-recommends curl'), want: ['line 2'] },
    {
      name: 'quiet update (apt-get -qq update)',
      // Regression: `update` is looked for only right after apt-get.
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get -qq update && apt-get -qq install -y --no-install-recommends curl'),
      want: ['line 2'],
    },
    {
      name: 'update and install inside if/then',
      // Regression: `then apt-get update` keeps its `then`, so the update is not seen (qdrant line 171).
      text: dockerfile('FROM debian:bookworm-slim', 'ARG GPU', 'RUN if [ -n "$GPU" ]; then \\', '    apt-get update \\', '    && apt-get install -y --no-install-recommends libvulkan1 \\', '    ; fi'),
      want: ['line 3'],
    },
    // Negative cases.
    { name: 'lists removed in the same RUN', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*'), want: [] },
    { name: 'an update alone is apt-update-alone\'s finding', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update', 'RUN apt-get install -y --no-install-recommends curl'), want: [] },
    { name: 'a build stage that is neither final nor built on', text: dockerfile('FROM debian:bookworm-slim AS build', 'RUN apt-get update && apt-get install -y --no-install-recommends gcc', 'FROM debian:bookworm-slim', 'COPY --from=build /out /app'), want: [] },
    { name: 'JSON-form RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN ["sh", "-c", "apt-get update && apt-get install -y curl"]'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN <<EOF', 'apt-get update && apt-get install -y curl', 'EOF'), want: [] },
    {
      name: 'a cache mount on /var/lib/apt',
      // Regression: flags are never parsed, so the cache mount keeping the lists out is not seen.
      text: dockerfile('FROM debian:bookworm-slim', 'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt,sharing=locked \\', '    apt-get update && apt-get install -y --no-install-recommends curl'),
      want: [],
    },
    {
      name: 'a stage built on only by a build stage',
      // Regression: `inherited` is not transitive: base is built on by `build`, which itself only
      // feeds a COPY --from, so nothing of base ships (ollama lines 33-55, getting-started line 6).
      text: dockerfile('FROM debian:bookworm-slim AS base', 'RUN apt-get update && apt-get install -y --no-install-recommends gcc', 'FROM base AS build', 'RUN gcc -o /out/app app.c', 'FROM scratch', 'COPY --from=build /out/app /app'),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'appends the removal on the same line',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl', 'USER nobody'),
      title: 'Remove the apt lists in the same RUN',
      want: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*', 'USER nobody'),
    },
    {
      name: 'continuation lines get one more line',
      text: dockerfile('FROM debian:bookworm-slim', '# tools', 'RUN apt-get update \\', '    && apt-get install -y --no-install-recommends \\', '        curl', 'USER nobody'),
      want: dockerfile('FROM debian:bookworm-slim', '# tools', 'RUN apt-get update \\', '    && apt-get install -y --no-install-recommends \\', '        curl \\', '    && rm -rf /var/lib/apt/lists/*', 'USER nobody'),
    },
    {
      name: 'semicolon style: no && after a ;',
      text: dockerfile('FROM debian:bookworm-slim', 'RUN set -eux; \\', '    apt-get update; \\', '    apt-get install -y --no-install-recommends curl;'),
      want: dockerfile('FROM debian:bookworm-slim', 'RUN set -eux; \\', '    apt-get update; \\', '    apt-get install -y --no-install-recommends curl; \\', '    rm -rf /var/lib/apt/lists/*'),
    },
    {
      name: 'the last line of a file without a final newline',
      text: 'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl',
      want: 'FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*',
    },
    {
      name: 'a trailing shell comment does not swallow the removal',
      // Regression: the removal is appended after `# ...`, inside the shell comment: it never runs,
      // yet the rule is satisfied (the text names /var/lib/apt/lists).
      text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends curl  # for the healthcheck'),
      check: (fixed) => {
        const line = fixed.split('\n').find((l) => l.includes('rm -rf /var/lib/apt/lists/*')) ?? '';
        assert.ok(!line.slice(0, line.indexOf('rm -rf')).includes('#'), `the removal is commented out: ${line}`);
      },
    },
  ]);
});

describe('apk-no-cache', () => {
  const ID = 'apk-no-cache';
  finds(ID, [
    { name: 'apk add', text: dockerfile('FROM alpine:3.20', 'RUN apk add curl'), want: ['line 2'] },
    { name: 'apk update and add', text: dockerfile('FROM alpine:3.20', 'RUN apk update && apk add curl'), want: ['line 2'] },
    { name: 'virtual build deps removed afterwards: the index stays', text: dockerfile('FROM python:3.12-alpine', 'RUN apk add --virtual .build-deps gcc musl-dev && pip install --no-cache-dir psycopg2 && apk del .build-deps'), want: ['line 2'] },
    // Negative cases.
    { name: 'with --no-cache', text: dockerfile('FROM alpine:3.20', 'RUN apk add --no-cache curl'), want: [] },
    { name: 'with --no-cache before add', text: dockerfile('FROM alpine:3.20', 'RUN apk --no-cache add curl'), want: [] },
    { name: 'cache removed in the same RUN', text: dockerfile('FROM alpine:3.20', 'RUN apk add curl && rm -rf /var/cache/apk/*'), want: [] },
    { name: 'virtual build deps with --no-cache', text: dockerfile('FROM python:3.12-alpine', 'RUN apk add --no-cache --virtual .build-deps gcc musl-dev \\', '    && pip install --no-cache-dir psycopg2 \\', '    && apk del --no-network .build-deps'), want: [] },
    { name: 'JSON-form RUN (not read)', text: dockerfile('FROM alpine:3.20', 'RUN ["apk", "add", "curl"]'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM alpine:3.20', 'RUN <<EOF', 'apk add curl', 'EOF'), want: [] },
    {
      name: 'a cache mount on /var/cache/apk',
      // Regression: flags are never parsed, so the cache mount is not seen.
      text: dockerfile('FROM alpine:3.20', 'RUN --mount=type=cache,target=/var/cache/apk apk add curl'),
      want: [],
    },
    {
      name: 'a build stage that is neither final nor built on',
      // Regression: size rules should skip stages that never ship, as pip-no-cache does
      // (docker/getting-started line 24: the zip stage only feeds a COPY --from).
      text: dockerfile('FROM alpine:3.20 AS zip', 'RUN apk add zip && zip -r /app.zip /app', 'FROM nginx:alpine', 'COPY --from=zip /app.zip /usr/share/nginx/html/'),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'adds --no-cache after add',
      text: dockerfile('FROM alpine:3.20', 'RUN apk add curl'),
      title: 'Add --no-cache',
      want: dockerfile('FROM alpine:3.20', 'RUN apk add --no-cache curl'),
    },
    {
      name: 'virtual build deps on continuation lines',
      text: dockerfile('FROM python:3.12-alpine', 'RUN apk add --virtual .build-deps gcc musl-dev \\', '    && pip install --no-cache-dir psycopg2 \\', '    && apk del .build-deps'),
      want: dockerfile('FROM python:3.12-alpine', 'RUN apk add --no-cache --virtual .build-deps gcc musl-dev \\', '    && pip install --no-cache-dir psycopg2 \\', '    && apk del .build-deps'),
    },
    {
      name: 'options before add',
      text: dockerfile('FROM alpine:3.20', 'RUN apk --update add curl'),
      want: dockerfile('FROM alpine:3.20', 'RUN apk --update add --no-cache curl'),
    },
  ]);
});

describe('pip-no-cache', () => {
  const ID = 'pip-no-cache';
  finds(ID, [
    { name: 'pip install', text: dockerfile('FROM python:3.12-slim', 'RUN pip install flask'), want: ['line 2'] },
    { name: 'pip3 install -r', text: dockerfile('FROM python:3.12-slim', 'COPY requirements.txt .', 'RUN pip3 install -r requirements.txt'), want: ['line 3'] },
    { name: 'python -m pip install', text: dockerfile('FROM python:3.12-slim', 'RUN python3 -m pip install flask'), want: ['line 2'] },
    { name: 'ENV PIP_NO_CACHE_DIR set only after the install', text: dockerfile('FROM python:3.12-slim', 'RUN pip install flask', 'ENV PIP_NO_CACHE_DIR=1'), want: ['line 2'] },
    { name: 'in a stage the final one builds on', text: dockerfile('FROM python:3.12-slim AS base', 'RUN pip install flask', 'FROM base', 'CMD ["flask", "run"]'), want: ['line 2'] },
    { name: 'a cache removed in a later RUN does not help', text: dockerfile('FROM python:3.12-slim', 'RUN pip install flask', 'RUN rm -rf /root/.cache/pip'), want: ['line 2'] },
    // Negative cases.
    { name: 'with --no-cache-dir', text: dockerfile('FROM python:3.12-slim', 'RUN pip install --no-cache-dir flask'), want: [] },
    { name: 'ENV PIP_NO_CACHE_DIR earlier in the stage', text: dockerfile('FROM python:3.12-slim', 'ENV PIP_NO_CACHE_DIR=1', 'RUN pip install flask'), want: [] },
    { name: 'PIP_NO_CACHE_DIR inline', text: dockerfile('FROM python:3.12-slim', 'RUN PIP_NO_CACHE_DIR=1 pip install flask'), want: [] },
    { name: 'a build stage that is neither final nor built on', text: dockerfile('FROM python:3.12-slim AS build', 'RUN pip install --prefix=/install flask', 'FROM python:3.12-slim', 'COPY --from=build /install /usr/local'), want: [] },
    { name: 'pipx is not pip', text: dockerfile('FROM python:3.12-slim', 'RUN pipx install black'), want: [] },
    { name: 'pip uninstall', text: dockerfile('FROM python:3.12-slim', 'RUN pip uninstall -y flask'), want: [] },
    { name: 'JSON-form RUN (not read)', text: dockerfile('FROM python:3.12-slim', 'RUN ["pip", "install", "flask"]'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM python:3.12-slim', 'RUN <<EOF', 'pip install flask', 'EOF'), want: [] },
    {
      name: 'a cache mount on /root/.cache/pip',
      // Regression: flags are never parsed, so the cache mount is not seen
      // (AbdBarho stable-diffusion-webui-docker lines 30 and 42).
      text: dockerfile('FROM python:3.12-slim', 'RUN --mount=type=cache,target=/root/.cache/pip pip install flask'),
      want: [],
    },
    {
      name: 'ENV PIP_NO_CACHE_DIR set in the stage this one builds on',
      // Regression: only the RUN's own stage is searched for the ENV, but ENV is inherited through FROM.
      text: dockerfile('FROM python:3.12-slim AS base', 'ENV PIP_NO_CACHE_DIR=1', 'FROM base', 'RUN pip install flask'),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'adds --no-cache-dir after install',
      text: dockerfile('FROM python:3.12-slim', 'RUN pip install flask'),
      title: 'Add --no-cache-dir',
      want: dockerfile('FROM python:3.12-slim', 'RUN pip install --no-cache-dir flask'),
    },
    {
      name: 'python -m pip install -r',
      text: dockerfile('FROM python:3.12-slim', 'COPY requirements.txt .', 'RUN python3 -m pip install -r requirements.txt'),
      want: dockerfile('FROM python:3.12-slim', 'COPY requirements.txt .', 'RUN python3 -m pip install --no-cache-dir -r requirements.txt'),
    },
    {
      name: 'continuation lines and a trailing shell comment stay as they are',
      text: dockerfile('FROM python:3.12-slim', 'RUN pip3 install \\', '    --user torch   # CPU wheels', 'CMD ["python3"]'),
      want: dockerfile('FROM python:3.12-slim', 'RUN pip3 install --no-cache-dir \\', '    --user torch   # CPU wheels', 'CMD ["python3"]'),
    },
  ]);
});

describe('dnf-no-clean', () => {
  const ID = 'dnf-no-clean';
  finds(ID, [
    { name: 'dnf install', text: dockerfile('FROM fedora:40', 'RUN dnf install -y curl'), want: ['line 2'] },
    { name: 'yum install', text: dockerfile('FROM centos:7', 'RUN yum install -y curl'), want: ['line 2'] },
    { name: 'microdnf install', text: dockerfile('FROM registry.access.redhat.com/ubi9/ubi-minimal', 'RUN microdnf install -y curl'), want: ['line 2'] },
    { name: 'zypper install', text: dockerfile('FROM opensuse/leap:15.6', 'RUN zypper install -y curl'), want: ['line 2'] },
    { name: 'cleaned only in a later RUN', text: dockerfile('FROM fedora:40', 'RUN dnf install -y curl', 'RUN dnf clean all'), want: ['line 2'] },
    // Negative cases.
    { name: 'dnf clean all in the same RUN', text: dockerfile('FROM fedora:40', 'RUN dnf install -y curl && dnf clean all'), want: [] },
    { name: 'yum clean all', text: dockerfile('FROM centos:7', 'RUN yum install -y curl && yum clean all'), want: [] },
    { name: 'microdnf clean all', text: dockerfile('FROM registry.access.redhat.com/ubi9/ubi-minimal', 'RUN microdnf install -y curl && microdnf clean all'), want: [] },
    { name: 'cache directory removed', text: dockerfile('FROM fedora:40', 'RUN dnf install -y curl && rm -rf /var/cache/dnf'), want: [] },
    { name: 'a build stage that is neither final nor built on', text: dockerfile('FROM fedora:40 AS build', 'RUN dnf install -y gcc', 'FROM fedora:40', 'COPY --from=build /out /app'), want: [] },
    { name: 'JSON-form RUN (not read)', text: dockerfile('FROM fedora:40', 'RUN ["dnf", "install", "-y", "curl"]'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM fedora:40', 'RUN <<EOF', 'dnf install -y curl', 'EOF'), want: [] },
    {
      name: 'a cache mount on /var/cache/dnf',
      // Regression: flags are never parsed, so the cache mount is not seen.
      text: dockerfile('FROM fedora:40', 'RUN --mount=type=cache,target=/var/cache/dnf dnf install -y curl'),
      want: [],
    },
  ]);

  fixes(ID, [
    {
      name: 'appends dnf clean all',
      text: dockerfile('FROM fedora:40', 'RUN dnf install -y curl'),
      title: 'Add dnf clean all',
      want: dockerfile('FROM fedora:40', 'RUN dnf install -y curl && dnf clean all'),
    },
    {
      name: 'yum on continuation lines',
      text: dockerfile('FROM centos:7', 'RUN yum install -y \\', '        curl \\', '        tar', 'CMD ["bash"]'),
      want: dockerfile('FROM centos:7', 'RUN yum install -y \\', '        curl \\', '        tar \\', '    && yum clean all', 'CMD ["bash"]'),
    },
    {
      name: 'microdnf',
      text: dockerfile('FROM registry.access.redhat.com/ubi9/ubi-minimal', 'RUN microdnf install -y curl'),
      want: dockerfile('FROM registry.access.redhat.com/ubi9/ubi-minimal', 'RUN microdnf install -y curl && microdnf clean all'),
    },
    {
      name: 'zypper cleans with its own syntax',
      // Regression: `zypper clean all` takes `all` for a repository alias and cleans nothing;
      // zypper's form is `zypper clean --all` (or `zypper clean`).
      text: dockerfile('FROM opensuse/leap:15.6', 'RUN zypper install -y curl'),
      check: (fixed) => assert.match(fixed, /zypper install -y curl && zypper clean( --all| -a)?\n/),
    },
  ]);
});

describe('build-tools-in-final', () => {
  const ID = 'build-tools-in-final';
  finds(ID, [
    // Application images (they copy the context in): toolchain images that build nothing are left alone.
    { name: 'build-essential in the only stage', text: dockerfile('FROM python:3.12-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*', 'COPY . .'), want: ['line 2, no fix'] },
    { name: 'gcc and musl-dev with apk', text: dockerfile('FROM python:3.12-alpine', 'RUN apk add --no-cache gcc musl-dev', 'COPY . .'), want: ['line 2, no fix'] },
    { name: 'JSON-form install', text: dockerfile('FROM alpine:3.20', 'RUN ["apk", "add", "--no-cache", "gcc"]', 'COPY . .'), want: ['line 2, no fix'] },
    { name: 'an SDK image that builds in its only stage', text: dockerfile('FROM golang:1.22', 'WORKDIR /src', 'COPY . .', 'RUN go build -o /usr/local/bin/app .', 'CMD ["app"]'), want: ['line 1, no fix'] },
    { name: 'in the final stage of several', text: dockerfile('FROM node:20 AS build', 'RUN npm ci', 'FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends gcc make && rm -rf /var/lib/apt/lists/*', 'COPY . /app'), want: ['line 4, no fix'] },
    {
      name: 'build tools listed after a comment line inside the continuation',
      // A comment line inside the continuation is not part of the command (AbdBarho line 21).
      text: dockerfile('FROM python:3.12-slim', 'RUN apt-get update \\', '    && apt-get install -y --no-install-recommends \\', '        # compilers for the C extensions', '        gcc \\', '    && rm -rf /var/lib/apt/lists/*', 'COPY . .'),
      want: ['line 2, no fix'],
    },
    // Negative cases.
    { name: 'build tools in a build stage only', text: dockerfile('FROM python:3.12-slim AS build', 'RUN apt-get update && apt-get install -y --no-install-recommends build-essential', 'FROM python:3.12-slim', 'COPY --from=build /install /usr/local'), want: [] },
    { name: 'apk virtual build deps deleted in the same RUN', text: dockerfile('FROM python:3.12-alpine', 'RUN apk add --no-cache --virtual .build-deps gcc musl-dev \\', '    && pip install --no-cache-dir psycopg2 \\', '    && apk del --no-network .build-deps'), want: [] },
    { name: 'apt-get purge in the same RUN', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends gcc && make && apt-get purge -y --auto-remove gcc'), want: [] },
    { name: 'runtime libraries only', text: dockerfile('FROM debian:bookworm-slim', 'RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*'), want: [] },
    { name: 'an SDK image in a build stage', text: dockerfile('FROM golang:1.22 AS build', 'COPY . .', 'RUN go build -o /app .', 'FROM gcr.io/distroless/static', 'COPY --from=build /app /app'), want: [] },
    { name: 'an SDK image that builds nothing', text: dockerfile('FROM golang:1.22', 'RUN go install golang.org/x/tools/gopls@latest'), want: [] },
    { name: 'heredoc RUN (not read)', text: dockerfile('FROM debian:bookworm-slim', 'RUN <<EOF', 'apt-get install -y gcc', 'EOF'), want: [] },
    {
      name: 'purge inside if/then in the same RUN',
      // Regression: `then apt-get purge` keeps its `then`, so the purge is not seen
      // (docker-library/postgres 17/bookworm line 94).
      text: dockerfile(
        'FROM debian:bookworm-slim',
        'RUN apt-get update; \\',
        '    apt-get install -y --no-install-recommends dpkg-dev; \\',
        '    dpkg-buildpackage -b; \\',
        '    if [ -n "$tempDir" ]; then \\',
        '        apt-get purge -y --auto-remove; \\',
        '    fi',
      ),
      want: [],
    },
    {
      name: 'a toolchain image: tools are what it ships, nothing of the context is built',
      // Regression: the official golang image installs gcc for cgo on purpose
      // (docker-library/golang 1.26/bookworm line 104). Report only when the final stage builds
      // something of its own (copies the context, or runs a build command).
      text: dockerfile('FROM golang:1.22 AS build', 'RUN go version', 'FROM buildpack-deps:bookworm-scm', 'RUN apt-get update && apt-get install -y --no-install-recommends g++ gcc libc6-dev make pkg-config && rm -rf /var/lib/apt/lists/*', 'COPY --from=build /usr/local/go /usr/local/go'),
      want: [],
    },
  ]);
});

describe('large-assets-with-code', () => {
  const ID = 'large-assets-with-code';
  finds(ID, [
    { name: 'a models folder and code in one COPY', text: dockerfile('FROM python:3.12-slim', 'COPY models/ app.py /app/'), want: ['line 2, no fix'] },
    { name: 'weights files and code', text: dockerfile('FROM python:3.12-slim', 'COPY model.safetensors server.py ./'), want: ['line 2, no fix'] },
    { name: 'JSON-form COPY', text: dockerfile('FROM python:3.12-slim', 'COPY ["weights/model.onnx", "server.py", "/srv/"]'), want: ['line 2, no fix'] },
    { name: 'ADD', text: dockerfile('FROM python:3.12-slim', 'ADD checkpoints app /srv/'), want: ['line 2, no fix'] },
    // Negative cases.
    { name: 'assets in their own COPY, before the code', text: dockerfile('FROM python:3.12-slim', 'COPY models/ /app/models/', 'COPY app.py /app/'), want: [] },
    { name: 'no asset names', text: dockerfile('FROM python:3.12-slim', 'COPY . /app'), want: [] },
    { name: 'in a build stage', text: dockerfile('FROM python:3.12-slim AS build', 'COPY models/ app.py /app/', 'FROM python:3.12-slim', 'COPY --from=build /app /app'), want: [] },
    {
      name: 'COPY --from another stage is not from the context',
      // Regression: flags are never parsed, so COPY --from counts as a copy from the context.
      text: dockerfile('FROM python:3.12-slim AS build', 'RUN true', 'FROM python:3.12-slim', 'COPY --from=build /models /app.py /app/'),
      want: [],
    },
  ]);

  it('names the assets', () => {
    const [finding] = findingsOf(dockerfile('FROM python:3.12-slim', 'COPY models/ weights.bin app.py /app/'), ID);
    assert.match(finding?.message ?? '', /models\/, weights\.bin/);
  });
});

describe('estargz-prioritize', () => {
  const ID = 'estargz-prioritize';
  const cases: Array<{ name: string; text: string; want: string[] | undefined; line?: number }> = [
    { name: 'node script relative to WORKDIR', text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'COPY . .', 'CMD ["node", "server.js"]'), want: ['/app/server.js'], line: 4 },
    { name: 'ENTRYPOINT and CMD together', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /srv', 'ENTRYPOINT ["/usr/bin/tini", "--"]', 'CMD ["python", "app.py"]'), want: ['/usr/bin/tini', '/srv/app.py'], line: 4 },
    { name: 'java -jar', text: dockerfile('FROM eclipse-temurin:21-jre', 'COPY app.jar /app/app.jar', 'ENTRYPOINT ["java", "-jar", "/app/app.jar"]'), want: ['/app/app.jar'], line: 3 },
    { name: 'WORKDIR changes are followed', text: dockerfile('FROM python:3.12-slim', 'WORKDIR /srv', 'WORKDIR app', 'CMD ["python", "main.py"]'), want: ['/srv/app/main.py'], line: 4 },
    { name: 'only the final stage counts', text: dockerfile('FROM node:20 AS build', 'CMD ["node", "build.js"]', 'FROM node:20-slim', 'WORKDIR /app', 'CMD ["node", "server.js"]'), want: ['/app/server.js'], line: 5 },
    // Negative cases.
    { name: 'no ENTRYPOINT or CMD', text: dockerfile('FROM alpine:3.20', 'COPY app /app'), want: undefined },
    { name: 'only bare commands', text: dockerfile('FROM nginx:1.27', 'CMD ["nginx", "-g", "daemon off;"]'), want: undefined },
    { name: 'a variable', text: dockerfile('FROM alpine:3.20', 'CMD ["$APP_BIN"]'), want: undefined },
    { name: 'CMD only in a build stage', text: dockerfile('FROM node:20 AS build', 'CMD ["node", "build.js"]', 'FROM nginx:1.27', 'COPY --from=build /out /usr/share/nginx/html'), want: undefined },
    {
      name: 'a bare entrypoint is found on PATH, not in WORKDIR',
      // Regression: `docker-entrypoint.sh` is run from PATH (/usr/local/bin, where the COPY put it);
      // the rule lists /data/docker-entrypoint.sh, a file that does not exist (docker-library
      // mysql, postgres, redis, wordpress, node; jupyter's start.sh).
      text: dockerfile('FROM debian:bookworm-slim', 'WORKDIR /data', 'COPY docker-entrypoint.sh /usr/local/bin/', 'ENTRYPOINT ["docker-entrypoint.sh"]', 'CMD ["redis-server"]'),
      want: ['/usr/local/bin/docker-entrypoint.sh'],
      line: 5,
    },
    {
      name: 'a script for sh -c: the files its commands run, not the script taken for one path',
      // Regression: Dokploy's CMD ["sh", "-c", "node ... dist/a.mjs && node ... dist/b.mjs"] gave
      // `/app/node -r dotenv/config dist/a.mjs && node ...` as one file.
      text: dockerfile('FROM node:20-slim', 'WORKDIR /app', 'ENTRYPOINT ["/usr/bin/tini", "--"]', 'CMD ["sh", "-c", "node -r dotenv/config dist/migrate.mjs && exec node dist/server.mjs"]'),
      want: ['/usr/bin/tini', '/app/dist/migrate.mjs', '/app/dist/server.mjs'],
      line: 4,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const found = findingsOf(c.text, ID);
      assert.deepEqual(found.map((f) => f.files), c.want ? [c.want] : []);
      if (c.line) assert.deepEqual(found.map((f) => f.range.start.line + 1), [c.line]);
    });
  }

  const clean = (text: string) => () => {
    const files = findingsOf(text, ID).flatMap((f) => f.files ?? []);
    for (const file of files) assert.match(file, /^\/[^\s"'$]*$/, `not a path in the image: ${file}`);
  };
  // Regression: WORKDIR "$APP" is used as written, quotes and variable included (qdrant line 246:
  // `/"$APP"/entrypoint.sh`; jupyter docker-stacks-foundation line 149: `/tmp/"${HOME}"/start.sh`).
  it('a quoted WORKDIR with a variable gives no made-up path', clean(dockerfile('FROM debian:13-slim', 'ARG APP=/qdrant', 'WORKDIR "$APP"', 'CMD ["./entrypoint.sh"]')));
  // Regression: shell-form CMD is one word, `node server.js`, taken whole for a file name
  // (`/app/node server.js`).
  it('shell-form CMD words are split', clean(dockerfile('FROM node:20-slim', 'WORKDIR /app', 'CMD node server.js')));
});

describe('analyzeDockerfile', () => {
  const text = dockerfile('FROM node:20-slim', 'COPY . .', 'RUN apk add curl', 'RUN npm ci', 'CMD ["node", "/app/server.js"]');
  it('reports in document order', () => {
    const lines = analyzeDockerfile(text).findings.map((f) => f.range.start.line);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
  });
  it('leaves out the groups the user turned off', () => {
    const groups = new Set(analyzeDockerfile(text, { disabledGroups: ['cache', 'lazy'] }).findings.map((f) => f.group));
    assert.deepEqual([...groups], ['size']);
  });
});
