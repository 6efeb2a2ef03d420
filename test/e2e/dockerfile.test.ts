// Dockerfile suggestions in a real VS Code: the lens on the line that copies the sources too
// early, applying its fix, undo; the same fix as a quick fix from the light bulb; the prioritize
// lens, which asks before it writes a file; and the cache-order misses: a requirements COPY
// between the sources and the install (quick fix), a Go build with no download step (lens), and
// an install of the whole project (a suggestion, no fix).
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

// The misses, each in a Dockerfile of its own beside the manifests it names.
const REQUIREMENTS_BETWEEN = `FROM python:3.12-slim
WORKDIR /srv
COPY . .
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["python3", "app.py"]
`;
const GO_BUILD = `FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app .
`;
const POETRY = `FROM python:3.12-slim
WORKDIR /srv
COPY . .
RUN poetry install
`;

const DOCKERFILE = `FROM node:20-slim
WORKDIR /app
# the application
COPY . .
RUN npm ci
CMD ["node", "server.js"]
`;

describe('Dockerfile lenses and quick fixes', { timeout: 180_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    server = await startCodeServer({
      prepareWorkspace: async (dir) => {
        await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
        await writeFile(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}\n');
        await writeFile(join(dir, 'server.js'), 'console.log("hi")\n');
        await writeFile(join(dir, 'requirements.dockerfile'), REQUIREMENTS_BETWEEN);
        await writeFile(join(dir, 'requirements.txt'), 'flask==3.0.3\n');
        await writeFile(join(dir, 'go.dockerfile'), GO_BUILD);
        await writeFile(join(dir, 'go.mod'), 'module example.com/app\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n');
        await writeFile(join(dir, 'go.sum'), '');
        await writeFile(join(dir, 'poetry.dockerfile'), POETRY);
        await writeFile(join(dir, 'pyproject.toml'), '[tool.poetry]\nname = "app"\n');
      },
    });
    bench = await Workbench.open(server, 'dockerfile');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  const lens = (text: string) => bench.page.locator('.editor-group-container.active .codelens-decoration a', { hasText: text });

  it('shows the dependency-order lens in the Dockerfile and applies its fix; undo restores the file', async () => {
    await bench.openFile('Dockerfile');
    await lens('Copy package*.json and install before the sources').waitFor();
    await bench.screenshot('lens');
    await bench.click(lens('Copy package*.json and install before the sources'));
    const fixed = await bench.waitForEditorText(/COPY package\*\.json \.\//);
    assert.match(fixed, /WORKDIR \/app\s+COPY package\*\.json \.\/\s+RUN npm ci\s+# the application\s+COPY \. \.\s+CMD/);
    await bench.screenshot('fixed');
    await bench.page.keyboard.press('Control+Z');
    assert.match(await bench.waitForEditorText(/COPY package\*\.json/, false), /# the application\s+COPY \. \.\s+RUN npm ci/);
    await bench.screenshot('undone');
  });

  it('offers the same fix as a quick fix on the diagnostic', async () => {
    const action = bench.page.locator('.action-widget .monaco-list-row', { hasText: 'Copy package*.json and install before the sources' });
    // After the undo, the diagnostics come back once the analysis has run again: until then the
    // menu has nothing to offer, so it is asked again.
    await bench.until(async () => {
      await bench.page.locator('.editor-group-container.active .view-line', { hasText: 'COPY . .' }).click();
      await bench.page.keyboard.press('Control+.');
      if (await action.waitFor({ timeout: 3000 }).then(() => true, () => false)) return true;
      await bench.page.keyboard.press('Escape');
      return false;
    }, 'the quick fix is offered on the diagnostic');
    await bench.screenshot('quick-fix');
    await bench.page.keyboard.press('Enter'); // the preferred fix is selected: Enter applies it
    await bench.waitForEditorText(/COPY package\*\.json \.\//);
  });

  it('asks before it writes the prioritize list: Copy Paths copies them, Write File writes them', async () => {
    const list = join(server.workspace, 'Dockerfile.prioritize');
    await bench.click(lens('Prioritize 1 file for eStargz'));
    await bench.dialog(/Create Dockerfile\.prioritize with 1 path to prefetch\?/, 'Copy Paths');
    await bench.statusBar(/Copied 1 path/);
    assert.equal(await bench.clipboard(), '/app/server.js\n');
    await assert.rejects(access(list), 'no file before the user says so');
    await bench.click(lens('Prioritize 1 file for eStargz'));
    await bench.dialog(/Create Dockerfile\.prioritize/, 'Write File');
    await bench.page.locator('.tab.active', { hasText: 'Dockerfile.prioritize' }).waitFor();
    assert.equal(await readFile(list, 'utf8'), '/app/server.js\n');
  });

  it('moves the sources below the install when a requirements COPY sits between them: quick fix on the diagnostic', async () => {
    await bench.openFile('requirements.dockerfile');
    await lens('Install before copying the sources').waitFor();
    const action = bench.page.locator('.action-widget .monaco-list-row', { hasText: 'Install before copying the sources' });
    await bench.until(async () => {
      await bench.page.locator('.editor-group-container.active .view-line', { hasText: 'COPY . .' }).click();
      await bench.page.keyboard.press('Control+.');
      if (await action.waitFor({ timeout: 3000 }).then(() => true, () => false)) return true;
      await bench.page.keyboard.press('Escape');
      return false;
    }, 'the quick fix is offered on the diagnostic');
    await bench.screenshot('requirements-between');
    await bench.page.keyboard.press('Enter');
    const fixed = await bench.waitForEditorText(/RUN pip install[^\n]*\s+COPY \. \./);
    assert.match(fixed, /WORKDIR \/srv\s+COPY requirements\.txt \.\s+RUN pip install --no-cache-dir -r requirements\.txt\s+COPY \. \.\s+CMD/);
  });

  it('adds go mod download above the sources from the Go lens; the project install is a suggestion without a fix', async () => {
    await bench.openFile('go.dockerfile');
    await bench.click(lens('Copy go.mod, go.sum and download the modules before the sources'));
    const fixed = await bench.waitForEditorText(/RUN go mod download/);
    assert.match(fixed, /WORKDIR \/src\s+COPY go\.mod go\.sum \.\/\s+RUN go mod download\s+COPY \. \.\s+RUN CGO_ENABLED=0 go build/);
    await bench.screenshot('go-fixed');
    await bench.openFile('poetry.dockerfile');
    await lens('The sources are copied before `poetry install`').waitFor();
    await bench.screenshot('poetry-suggestion');
    const fixes = bench.page.locator('.editor-group-container.active .codelens-decoration a', { hasText: /before the sources|before copying the sources/ });
    assert.equal(await fixes.count(), 0, 'no fix is offered for the project install');
  });
});
