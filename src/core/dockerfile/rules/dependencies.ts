// deps-before-sources: a dependency install that runs after the sources were copied reinstalls
// everything on every source edit. Copy the dependency manifests, install, then copy the rest.
import { firstLineRange, moveAbove, type Finding, type Rule, type RuleContext } from '../findings.js';
import type { DockerInstruction, Stage } from '../model.js';
import { mounts, runCommand, simpleCommands, words } from '../shell.js';
import { fromContext, isTree, movableAcross, sources } from './copies.js';

interface Ecosystem {
  name: string;
  /** Matches one simple command that installs dependencies. */
  install: (w: string[]) => boolean;
  /** Manifest files the install reads, given the command (pip's `-r` names its file). */
  manifests: (w: string[]) => Array<{ file: string; optional: boolean }>;
}

const file = (name: string, optional = false) => ({ file: name, optional });

const ECOSYSTEMS: Ecosystem[] = [
  { name: 'npm', install: (w) => w[0] === 'npm' && ['ci', 'install', 'i'].includes(w[1] ?? '') && !w.some((x) => x === '-g' || x === '--global') && w.slice(2).every((x) => x.startsWith('-')),
    manifests: () => [file('package.json'), file('package-lock.json', true), file('npm-shrinkwrap.json', true)] },
  { name: 'yarn', install: (w) => w[0] === 'yarn' && (w.length === 1 || w[1] === 'install' || (w[1] ?? '').startsWith('--')),
    manifests: () => [file('package.json'), file('yarn.lock', true), file('.yarnrc.yml', true)] },
  { name: 'pnpm', install: (w) => w[0] === 'pnpm' && ['install', 'i'].includes(w[1] ?? '') && w.slice(2).every((x) => x.startsWith('-')),
    manifests: () => [file('package.json'), file('pnpm-lock.yaml', true)] },
  { name: 'pip', install: (w) => /^(pip3?|python3? -m pip)$/.test(w.slice(0, w[0]?.startsWith('python') ? 3 : 1).join(' ')) && w.includes('install') && requirementFiles(w).length > 0,
    manifests: (w) => [...requirementFiles(w).map((f) => file(f)), file('setup.py', true), file('setup.cfg', true), file('pyproject.toml', true)] },
  { name: 'poetry', install: (w) => w[0] === 'poetry' && w[1] === 'install', manifests: () => [file('pyproject.toml'), file('poetry.lock', true)] },
  { name: 'pipenv', install: (w) => w[0] === 'pipenv' && w[1] === 'install', manifests: () => [file('Pipfile'), file('Pipfile.lock', true)] },
  { name: 'go', install: (w) => w[0] === 'go' && w[1] === 'mod' && w[2] === 'download', manifests: () => [file('go.mod'), file('go.sum', true)] },
  { name: 'maven', install: (w) => /mvnw?$/.test(w[0] ?? '') && w.some((x) => /^dependency:(go-offline|resolve)/.test(x)), manifests: () => [file('pom.xml')] },
  { name: 'cargo', install: (w) => w[0] === 'cargo' && w[1] === 'fetch', manifests: () => [file('Cargo.toml'), file('Cargo.lock', true)] },
  { name: 'bundler', install: (w) => w[0] === 'bundle' && w[1] === 'install', manifests: () => [file('Gemfile'), file('Gemfile.lock', true)] },
  { name: 'composer', install: (w) => w[0] === 'composer' && w[1] === 'install', manifests: () => [file('composer.json'), file('composer.lock', true)] },
];

function requirementFiles(w: string[]): string[] {
  const files: string[] = [];
  w.forEach((x, i) => {
    if ((x === '-r' || x === '--requirement') && w[i + 1]) files.push(w[i + 1] as string);
    else if (/^(-r|--requirement=)./.test(x)) files.push(x.replace(/^(-r|--requirement=)/, ''));
  });
  return files.filter((f) => !f.includes('$'));
}

export const depsBeforeSources: Rule = {
  id: 'deps-before-sources',
  group: 'cache',
  check({ model, exists }: RuleContext): Finding[] {
    const findings: Finding[] = [];
    for (const stage of model.stages) {
      for (const [index, run] of stage.instructions.entries()) {
        const command = runCommand(run);
        if (!command) continue;
        // Dependencies bound in with --mount never sit in a COPY layer: nothing to reorder.
        if (mounts(run).some((m) => m.type === 'bind')) continue;
        const commands = simpleCommands(command).map(words);
        const match = commands.map((w) => ({ w, eco: ECOSYSTEMS.find((e) => e.install(w)) })).find((m) => m.eco);
        if (!match?.eco) continue;
        const manifests = match.eco.manifests(match.w);
        const earlier = stage.instructions.slice(0, index);
        // The first COPY of a whole tree (`.`, a folder): named files are not "the sources".
        const sourceCopy = earlier.find((i) => fromContext(i) && sources(i).some(isTree));
        if (!sourceCopy) continue;
        // Only an install (and its cleanup) can move: `npm ci && npm run build` needs the sources.
        const onlyInstall = commands.every((w) => ECOSYSTEMS.some((e) => e.install(w)) || CLEANUP.test(w.join(' ')));
        findings.push(finding(model, stage, run, sourceCopy, match.eco.name, manifests, earlier, onlyInstall, exists));
      }
    }
    return findings;
  },
};

const CLEANUP = /^(rm -rf? |npm cache clean|yarn cache clean|pip3? cache purge|composer clear-cache|go clean -modcache)/;

function finding(
  model: RuleContext['model'], stage: Stage, run: DockerInstruction, sourceCopy: DockerInstruction, ecosystem: string,
  manifests: Array<{ file: string; optional: boolean }>, earlier: DockerInstruction[], onlyInstall: boolean, exists: RuleContext['exists'],
): Finding {
  const between = stage.instructions.slice(stage.instructions.indexOf(sourceCopy) + 1, stage.instructions.indexOf(run));
  // The manifests sit in the folder the COPY brings in (`COPY app/ .` -> `app/package.json`).
  const tree = sources(sourceCopy);
  const folder = tree.length === 1 && tree[0] !== '.' && tree[0] !== '' && tree[0] !== '*' ? `${(tree[0] as string).replace(/\/$/, '')}/` : tree.length === 1 ? '' : undefined;
  const absolute = manifests.some((m) => m.file.startsWith('/'));
  const safe = onlyInstall && between.every(movableAcross) && folder !== undefined && !absolute;
  const copied = new Set(earlier.slice(0, earlier.indexOf(sourceCopy)).filter(fromContext).flatMap(sources));
  const needed = manifests.filter((m) => !copied.has(`${folder ?? ''}${m.file}`) && !(m.file.startsWith('package') && copied.has(`${folder ?? ''}package*.json`)));
  // Optional files (lock files, setup.py) are named only when we can see they exist (a COPY of a
  // missing file fails the build); npm's `package*.json` idiom takes whichever are there.
  const names = (ecosystem === 'npm' ? ['package*.json'] : needed.filter((m) => !m.optional || exists?.(`${folder ?? ''}${m.file}`)).map((m) => m.file)).map((n) => `${folder ?? ''}${n}`);
  const destination = sourceCopy.words.at(-1) ?? '.';
  const target = destination === '.' ? './' : destination.endsWith('/') ? destination : `${destination}/`;
  const chown = sourceCopy.flags.chown?.[0];
  const copyLine = needed.length ? `COPY ${chown ? `--chown=${chown} ` : ''}${names.join(' ')} ${target}\n` : '';
  const message = `The sources are copied before the ${ecosystem} dependencies are installed (line ${run.range.start.line + 1}): every source change reinstalls them`;
  return {
    ruleId: depsBeforeSources.id,
    group: 'cache',
    severity: 'information',
    // On the COPY: that is where the order goes wrong, and what the fix moves things above.
    range: firstLineRange(model, sourceCopy),
    message: safe ? message : `${message}. Not fixed automatically: ${!onlyInstall ? 'the same RUN does more than install' : folder === undefined ? 'the sources come from several places' : absolute ? 'the manifest is named by its path in the image' : 'the instructions in between may matter to the install'}`,
    rationale: `Copy only the dependency manifests, install, then copy the sources: a source edit then reuses the cached install layer. The install may need other files too (postinstall scripts, local packages): copy those with the manifests.`,
    source: 'docs.docker.com/build/cache/optimize/#order-your-layers',
    ...(safe ? { fix: { title: copyLine ? `Copy ${names.join(', ')} and install before the sources` : 'Install before copying the sources', edits: moveAbove(model, run, sourceCopy, copyLine) } } : {}),
  };
}
