// deps-before-sources: a dependency install that runs after the sources were copied reinstalls
// everything on every source edit. Copy the dependency manifests, install, then copy the rest.
// The fix copies the sources right after the install (with a COPY of the manifests above it when
// none is there yet), so whatever stood between them keeps its place before the install; a COPY
// of the manifests already between them (`COPY . .`, `COPY requirements.txt .`, install) stays.
// An install of the project itself (`pip install .`, `poetry install`, `make install`) needs the
// sources: it is found and explained, never moved.
import { posix } from 'node:path';
import { firstLineRange, moveBelow, type Finding, type Rule, type RuleContext, type TextEdit } from '../findings.js';
import type { DockerInstruction, Stage } from '../model.js';
import { mounts, runCommand, simpleCommands, words } from '../shell.js';
import { copyTargets, fromContext, inherited, isTree, movableAcross, resolvePath, sourceCopyBefore, sourceFolder, sources, under, workdirBefore } from './copies.js';
import { ECOSYSTEMS, PROJECT_INSTALLS, poetryWithoutPackage, type Ecosystem, type Family, type Manifest, type ProjectInstall, type ReadFile } from './ecosystems.js';
import { installsFromOutside } from './ordering.js';

const SOURCE = 'docs.docker.com/build/cache/optimize/#order-your-layers';
const CLEANUP = /^(rm -rf? |npm cache clean|yarn cache clean|pip3? cache purge|composer clear-cache|go clean -modcache)/;
const nothing: ReadFile = () => undefined;

export const depsBeforeSources: Rule = {
  id: 'deps-before-sources',
  group: 'cache',
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    for (const stage of ctx.model.stages) {
      for (const [index, run] of stage.instructions.entries()) {
        const command = runCommand(run);
        if (!command) continue;
        // Dependencies bound in with --mount never sit in a COPY layer: nothing to reorder.
        if (mounts(run).some((m) => m.type === 'bind')) continue;
        const sourceCopy = sourceCopyBefore(stage, index);
        if (!sourceCopy) continue;
        const folder = sourceFolder(sourceCopy);
        const commands = simpleCommands(command).map(words);
        const dependencies = (w: string[]): Ecosystem | undefined => ECOSYSTEMS.find((e) => e.install(w))
          ?? (w[0] === 'poetry' && w[1] === 'install' && poetryWithoutPackage(ctx.read ?? nothing, folder ?? '') ? ECOSYSTEMS.find((e) => e.name === 'poetry') : undefined);
        for (const w of commands) {
          const eco = dependencies(w);
          if (eco) {
            // Only a RUN that just installs (and cleans up) can go before the sources: `npm ci && npm run build` needs them.
            const onlyInstall = commands.every((c) => dependencies(c) || CLEANUP.test(c.join(' ')));
            findings.push(dependencyFinding(ctx, { stage, run, sourceCopy, folder, eco, w, onlyInstall }));
            break;
          }
          const project = PROJECT_INSTALLS.find((p) => p.matches(w, (path) => inSources(stage, sourceCopy, run, path) === true));
          if (project) {
            const finding = projectFinding(ctx, stage, run, w, sourceCopy, folder, project);
            if (finding) findings.push(finding);
            break;
          }
        }
      }
    }
    return findings;
  },
};

interface Install {
  stage: Stage;
  run: DockerInstruction;
  sourceCopy: DockerInstruction;
  folder: string | undefined;
  eco: Ecosystem;
  w: string[];
  onlyInstall: boolean;
}

function dependencyFinding(ctx: RuleContext, install: Install): Finding {
  const { model, exists } = ctx;
  const { stage, run, sourceCopy, folder, eco, w, onlyInstall } = install;
  const read = ctx.read ?? nothing;
  const copyIndex = stage.instructions.indexOf(sourceCopy);
  const runIndex = stage.instructions.indexOf(run);
  const between = stage.instructions.slice(copyIndex + 1, runIndex);
  const manifests = eco.manifests(w);
  const prefix = folder ?? '';
  // What earlier COPYs (not the sources) bring: context paths, and where they land in the image.
  const copies = stage.instructions.slice(0, runIndex).filter((i) => i !== sourceCopy && fromContext(i) && !sources(i).some(isTree));
  const copied = new Set(copies.flatMap(sources));
  const landed = new Set(copies.flatMap((c) => copyTargets(c, workdirBefore(stage, stage.instructions.indexOf(c))).flatMap((t) => t.targets)));
  const needed = manifests.filter((m) => m.file.startsWith('/')
    ? !landed.has(m.file)
    : !copied.has(`${prefix}${m.file}`) && !(m.file.startsWith('package') && copied.has(`${prefix}package*.json`)));
  // A COPY of the manifest between the sources and the install: the order goes wrong twice.
  const manifestCopy = between.find((i) => fromContext(i) && manifests.some((m) => sources(i).includes(`${prefix}${m.file}`) || copyTargets(i, workdirBefore(stage, stage.instructions.indexOf(i))).some((t) => t.targets.includes(m.file))));

  const names = manifestNames(eco, needed, prefix, exists);
  const destination = sourceCopy.words.at(-1) ?? '.';
  // A manifest in a subfolder (`-r requirements/prod.txt`) keeps its folder under the destination.
  const subfolders = [...new Set(names.map((n) => posix.dirname(n.slice(prefix.length))))];
  const base = destination === '.' ? './' : destination.endsWith('/') ? destination : `${destination}/`;
  const target = subfolders.length === 1 && subfolders[0] !== '.' ? `${base}${subfolders[0]}/` : base;
  const why = !onlyInstall ? 'the same RUN does more than install'
    : folder === undefined ? 'the sources come from several places'
    : between.some((i) => !crossable(stage, sourceCopy, i, folder)) ? 'the instructions in between may matter to the install'
    : needed.some((m) => m.file.startsWith('/')) ? 'the manifest is named by its path in the image'
    : new Set(names.map((n) => posix.dirname(n))).size > 1 ? 'the manifests are in several folders'
    : eco.needsMore?.(w, { read, exists: (path) => exists?.(path) ?? read(path) !== undefined, folder, fromSources: (path) => inSources(stage, sourceCopy, run, path) !== false })
      ?? (eco.output && exists?.(`${folder}${eco.output}`) && !dockerignored(read, `${folder}${eco.output}`) ? `${folder}${eco.output} in the build context would overwrite the installed one (list it in .dockerignore)` : undefined);

  const chown = sourceCopy.flags.chown?.[0];
  const copyLine = names.length ? `COPY ${chown ? `--chown=${chown} ` : ''}${names.join(' ')} ${target}\n` : '';
  const line = (i: DockerInstruction): number => i.range.start.line + 1;
  const message = manifestCopy
    ? `The sources are copied before ${sources(manifestCopy).join(', ')} (line ${line(manifestCopy)}) and the ${eco.name} install that reads ${sources(manifestCopy).length > 1 ? 'them' : 'it'} (line ${line(run)}): every source change reinstalls the dependencies`
    : `The sources are copied before the ${eco.name} dependencies are installed (line ${line(run)}): every source change reinstalls them`;
  const edits: TextEdit[] = [
    ...(copyLine ? [{ range: { start: { line: run.firstLine, character: 0 }, end: { line: run.firstLine, character: 0 } }, newText: copyLine }] : []),
    ...moveBelow(model, sourceCopy, run),
  ];
  return {
    ruleId: depsBeforeSources.id,
    group: 'cache',
    severity: 'information',
    // On the COPY: that is where the order goes wrong, and what the fix moves.
    range: firstLineRange(model, sourceCopy),
    message: why ? `${message}. Not fixed automatically: ${why}` : message,
    rationale: 'Copy only the dependency manifests, install, then copy the sources: a source edit then reuses the cached install layer. The install may need other files too (postinstall scripts, local packages): copy those with the manifests.',
    source: SOURCE,
    ...(why ? {} : { fix: { title: copyLine ? `Copy ${names.join(', ')} and install before the sources` : 'Install before copying the sources', edits } }),
  };
}

/** The manifests a new COPY names: lock files and the like only when seen to exist (a COPY of a missing file fails the build). */
function manifestNames(eco: Ecosystem, needed: Manifest[], prefix: string, exists: RuleContext['exists']): string[] {
  const named = needed.filter((m) => !m.optional || exists?.(`${prefix}${m.file}`)).map((m) => m.file);
  // npm's `package*.json` idiom takes whichever of package.json and its lock file are there.
  const files = eco.name === 'npm' && needed.some((m) => m.file.startsWith('package'))
    ? ['package*.json', ...named.filter((f) => !f.startsWith('package'))]
    : named;
  return files.map((f) => `${prefix}${f}`);
}

/**
 * Whether the sources' COPY can go below `ins` (the fix moves it below the install) and leave the
 * image as it was. COPY ignores USER and SHELL, and reads ENV, ARG and WORKDIR only through what it
 * names; a COPY of named files may move across it only where both put the same file.
 */
function crossable(stage: Stage, sourceCopy: DockerInstruction, ins: DockerInstruction, folder: string): boolean {
  const variables = /\$/.test(sourceCopy.args);
  switch (ins.keyword) {
    case 'ENV':
    case 'ARG':
      return !variables;
    case 'USER':
    case 'SHELL':
      return true;
    case 'WORKDIR':
      return !variables && (sourceCopy.words.at(-1) ?? '').startsWith('/');
    case 'COPY':
      return copiesAlongside(stage, sourceCopy, ins, folder);
    case 'RUN':
      return installsFromOutside(ins, sourceCopy.words.at(-1) ?? '.');
    default:
      return movableAcross(ins);
  }
}

/** A COPY of named files that lands either outside the sources' folder or on the very file the sources would put there. */
function copiesAlongside(stage: Stage, sourceCopy: DockerInstruction, copy: DockerInstruction, folder: string): boolean {
  const local = fromContext(copy);
  if ((local && sources(copy).some(isTree)) || /\$/.test(copy.args)) return false;
  const into = resolvePath(workdirBefore(stage, stage.instructions.indexOf(sourceCopy)), sourceCopy.words.at(-1) ?? '');
  const dir = workdirBefore(stage, stage.instructions.indexOf(copy));
  if (into === undefined) return false;
  // From another stage a source may be a folder, whose contents land in the destination itself.
  const placed = copyTargets(copy, dir).map((p) => (local ? p : { ...p, targets: [...p.targets, resolvePath(dir, copy.words.at(-1) ?? '')] }));
  return placed.every(({ source, targets }) => targets.every((t) => {
    if (t === undefined) return false;
    const inside = under(t, into);
    return inside === null || (local && inside !== undefined && `${folder}${inside}` === source);
  }));
}

/** Whether a path the install names (relative to where it runs, or absolute) is among the copied sources; undefined when it cannot be told. */
function inSources(stage: Stage, sourceCopy: DockerInstruction, run: DockerInstruction, path: string): boolean | undefined {
  const into = resolvePath(workdirBefore(stage, stage.instructions.indexOf(sourceCopy)), sourceCopy.words.at(-1) ?? '');
  const named = resolvePath(workdirBefore(stage, stage.instructions.indexOf(run)), path);
  const inside = into === undefined || named === undefined ? undefined : under(named, into);
  return inside === undefined ? undefined : inside !== null;
}

/** Whether .dockerignore (at the context root) leaves `path` out. */
function dockerignored(read: ReadFile, path: string): boolean {
  const name = path.replace(/\/$/, '');
  return (read('.dockerignore') ?? '').split(/\r?\n/).some((l) => {
    const pattern = l.trim().replace(/^(\*\*\/|\/)/, '').replace(/\/(\*\*?)?$/, '');
    return pattern === name || pattern === name.split('/').pop();
  });
}

function projectFinding(ctx: RuleContext, stage: Stage, run: DockerInstruction, w: string[], sourceCopy: DockerInstruction, folder: string | undefined, project: ProjectInstall): Finding | undefined {
  // Dependencies installed on their own before this install: the project's install after the
  // sources is the right shape (and one installed after them is that install's finding).
  const before = [...inherited(ctx.model, stage), ...stage.instructions.slice(0, stage.instructions.indexOf(run))];
  if (before.some((i) => installsDependencies(i, project.family))) return undefined;
  const prefix = folder ?? '';
  const present = ctx.exists && folder !== undefined ? project.manifests.filter((m) => ctx.exists?.(`${prefix}${m}`)) : [];
  // make says nothing of what it installs: only manifests seen in the context make it worth saying.
  if (!project.family && !present.length) return undefined;
  const names = (present.length ? present : project.manifests.slice(0, 2)).map((m) => `${prefix}${m}`);
  const list = present.length ? names.join(', ') : names.join(' or ');
  const line = run.range.start.line + 1;
  const written = w.join(' ');
  const command = written.length > 60 ? `${written.slice(0, 57)}...` : written;
  return {
    ruleId: depsBeforeSources.id,
    group: 'cache',
    severity: project.family ? 'information' : 'hint',
    range: firstLineRange(ctx.model, sourceCopy),
    message: project.family
      ? `The sources are copied before \`${command}\` (line ${line}) installs the project and its dependencies: every source change reinstalls them. Not fixed automatically: that install needs the sources`
      : `The sources are copied before \`${command}\` (line ${line}): if it installs the dependencies of ${list}, every source change reinstalls them. Not fixed automatically: what it runs is not known here`,
    rationale: `Copy ${list} first and ${project.advice}: a source edit then reuses the dependency layer.`,
    source: SOURCE,
  };
}

function installsDependencies(ins: DockerInstruction, family: Family | undefined): boolean {
  return simpleCommands(runCommand(ins)).map(words).some((w) => ECOSYSTEMS.some((e) => (!family || e.family === family) && e.install(w)));
}
