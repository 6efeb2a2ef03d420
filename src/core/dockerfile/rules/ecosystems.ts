// What the cache-order rules know of each package ecosystem: the command that installs a
// project's dependencies from its manifests alone, what else such an install may read, and the
// commands that need the whole project.

export interface Manifest {
  file: string;
  optional: boolean;
}

/** Reads a file of the build context by its path there; undefined when it cannot. */
export type ReadFile = (path: string) => string | undefined;

/** The project an install is for, as far as the Dockerfile and the context tell. */
export interface Project {
  read: ReadFile;
  exists: (path: string) => boolean;
  /** The context folder the sources come from ('' or `app/`): manifests are read there. */
  folder: string;
  /** Whether a path in the image (`/app/libs/x`, or relative to the install) may be one of the copied sources. */
  fromSources: (path: string) => boolean;
}

export type Family = 'node' | 'python' | 'go' | 'rust' | 'java' | 'ruby' | 'php';

export interface Ecosystem {
  name: string;
  family: Family;
  /** Matches one simple command that installs dependencies from the manifests. */
  install: (w: string[]) => boolean;
  /** Manifest files the install reads, given the command (pip's `-r` names its file). */
  manifests: (w: string[]) => Manifest[];
  /** Why the install would not work with the manifests alone, from what the command and the manifests say. */
  needsMore?: (w: string[], project: Project) => string | undefined;
  /** What the install writes into the project folder, which a later copy of the sources could overwrite. */
  output?: string;
}

const file = (name: string, optional = false): Manifest => ({ file: name, optional });
export const has = (w: string[], ...flags: string[]): boolean => w.some((x) => flags.includes(x));
const unquote = (s: string): string => s.replace(/^["']|["']$/g, '');

/** `pip`, `pip3`, `python3 -m pip`, `uv pip`: the words after the program, or undefined. */
function pipArgs(w: string[]): string[] | undefined {
  if (/^pip3?(\.\d+)?$/.test(w[0] ?? '')) return w.slice(1);
  if (/^python3?(\.\d+)?$/.test(w[0] ?? '') && w[1] === '-m' && w[2] === 'pip') return w.slice(3);
  if (w[0] === 'uv' && w[1] === 'pip') return w.slice(2);
  return undefined;
}

/** pip options that take a value (so the value is not read as a package to install). */
const PIP_VALUE_OPTIONS = new Set(['-r', '--requirement', '-c', '--constraint', '-i', '--index-url', '--extra-index-url', '-f', '--find-links', '-t', '--target',
  '--prefix', '--root', '--trusted-host', '--platform', '--python-version', '--implementation', '--abi', '--src', '--upgrade-strategy', '--progress-bar',
  '--cache-dir', '--log', '--timeout', '--retries', '--proxy', '--cert', '--client-cert', '--global-option', '--install-option', '-C', '--config-settings', '--only-binary', '--no-binary', '--python']);

/** A pip argument that names the project in the context: `.`, `./sub`, `.[extras]`. */
const PROJECT_PATH = /^\.(\/[\w./-]*)?(\[[\w,.-]+\])?$/;

/** pip's `install` arguments: requirement and constraint files, --find-links places, and packages (or paths) to install. */
function pipInstall(w: string[]): { requirements: string[]; constraints: string[]; links: string[]; targets: string[]; editable: string[] } | undefined {
  const args = pipArgs(w);
  if (!args || args[0] !== 'install') return undefined;
  const found = { requirements: [] as string[], constraints: [] as string[], links: [] as string[], targets: [] as string[], editable: [] as string[] };
  const lists: Record<string, string[]> = {
    '-r': found.requirements, '--requirement': found.requirements, '-c': found.constraints, '--constraint': found.constraints,
    '-e': found.editable, '--editable': found.editable, '-f': found.links, '--find-links': found.links,
  };
  for (let i = 1; i < args.length; i++) {
    const x = args[i] as string;
    const [flag, inline] = x.startsWith('--') && x.includes('=') ? [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)] : /^-[rcef]./.test(x) ? [x.slice(0, 2), x.slice(2)] : [x, undefined];
    const list = lists[flag];
    if (list) list.push(unquote(inline ?? args[++i] ?? ''));
    else if (PIP_VALUE_OPTIONS.has(x)) i++;
    else if (!x.startsWith('-')) found.targets.push(unquote(x));
  }
  return found;
}

/** A package to install by name (`flask`, `flask==3.0`, `flask[async]>=3`), not a path or a URL. */
const byName = (t: string): boolean => !/[/:]/.test(t) && !t.startsWith('.');

/** A `file:` URL or path (`file:///app/lib`, `file:../lib`, `./lib`) that may point into the sources. */
function localPath(spec: string, { fromSources }: Project): boolean {
  const path = /^file:/.test(spec) ? spec.replace(/^file:(\/\/)?/, '') : /^\.{1,2}(\/|$)/.test(spec) ? spec : undefined;
  return path !== undefined && fromSources(path);
}

/** Requirement lines that bring in more than the file itself: other files, the sources, editables. */
function requirementsNeedMore(project: Project, path: string): string | undefined {
  const text = project.read(path);
  if (text === undefined) return undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (/^(-r|-c|--requirement|--constraint)\b/.test(line)) return `${path} includes another file (${line})`;
    const spec = line.replace(/^[\w.[\],-]+\s*@\s*/, '');
    if (/^(-e|--editable)\b/.test(line) || localPath(spec, project)) return `${path} installs from the sources (${line})`;
  }
  return undefined;
}

function json(read: ReadFile, path: string): Record<string, unknown> | undefined {
  const text = read(path);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** npm, yarn and pnpm run the root package's install scripts, and need workspaces and local packages. */
function packageJsonNeedsMore(project: Project): string | undefined {
  const { read, folder } = project;
  const pkg = json(read, `${folder}package.json`);
  if (!pkg) return undefined;
  if (pkg.workspaces) return 'package.json declares workspaces, whose package.json files the install needs too';
  const scripts = (pkg.scripts ?? {}) as Record<string, unknown>;
  const hook = ['preinstall', 'install', 'postinstall', 'prepare'].find((s) => typeof scripts[s] === 'string');
  if (hook) return `package.json has a ${hook} script, which the install runs and which may read the sources`;
  for (const key of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = (pkg[key] ?? {}) as Record<string, unknown>;
    const local = Object.entries(deps).find(([, spec]) => typeof spec === 'string' && (/^(link:|portal:|workspace:)/.test(spec) || localPath(spec, project)));
    if (local) return `package.json installs ${local[0]} from a local path`;
  }
  if (project.exists(`${folder}pnpm-workspace.yaml`)) return 'pnpm-workspace.yaml declares workspaces, whose package.json files the install needs too';
  if (/^yarnPath:/m.test(read(`${folder}.yarnrc.yml`) ?? '')) return '.yarnrc.yml runs a Yarn release kept in the project';
  return undefined;
}

const node = (name: string, install: Ecosystem['install'], lock: string): Ecosystem => ({
  name, family: 'node', install, output: 'node_modules',
  manifests: () => [file('package.json'), file(lock, true), file('.npmrc', true), ...(name === 'yarn' ? [file('.yarnrc.yml', true)] : [])],
  needsMore: (_w, project) => packageJsonNeedsMore(project),
});

export const ECOSYSTEMS: readonly Ecosystem[] = [
  node('npm', (w) => w[0] === 'npm' && ['ci', 'install', 'i'].includes(w[1] ?? '') && !has(w, '-g', '--global') && w.slice(2).every((x) => x.startsWith('-')), 'package-lock.json'),
  node('yarn', (w) => w[0] === 'yarn' && (w.length === 1 || w[1] === 'install' || (w[1] ?? '').startsWith('--')), 'yarn.lock'),
  node('pnpm', (w) => w[0] === 'pnpm' && ['install', 'i'].includes(w[1] ?? '') && w.slice(2).every((x) => x.startsWith('-')), 'pnpm-lock.yaml'),
  {
    name: 'pip', family: 'python',
    install: (w) => {
      const pip = pipInstall(w);
      return !!pip && pip.requirements.length > 0 && [...pip.requirements, ...pip.constraints].every((f) => !f.includes('$')) && pip.targets.every(byName) && pip.editable.length === 0;
    },
    manifests: (w) => {
      const pip = pipInstall(w);
      return [...pip?.requirements ?? [], ...pip?.constraints ?? []].map((f) => file(f));
    },
    needsMore: (w, project) => {
      const pip = pipInstall(w);
      const local = pip?.links.find((l) => !/:\/\/|\$/.test(l) && project.fromSources(l));
      if (local) return `pip finds packages in ${local}, among the sources`;
      for (const f of [...pip?.requirements ?? [], ...pip?.constraints ?? []]) {
        const why = f.startsWith('/') ? undefined : requirementsNeedMore(project, `${project.folder}${f}`);
        if (why) return why;
      }
      return undefined;
    },
  },
  {
    name: 'poetry', family: 'python', output: '.venv',
    install: (w) => w[0] === 'poetry' && w[1] === 'install' && has(w, '--no-root'),
    manifests: () => [file('pyproject.toml'), file('poetry.lock', true)],
    needsMore: (_w, { read, folder }) => (/\bpath\s*=/.test(read(`${folder}pyproject.toml`) ?? '') ? 'pyproject.toml has a dependency on a local path' : undefined),
  },
  {
    name: 'uv', family: 'python', output: '.venv',
    install: (w) => w[0] === 'uv' && w[1] === 'sync' && has(w, '--no-install-project', '--no-install-workspace'),
    manifests: () => [file('pyproject.toml'), file('uv.lock', true)],
    needsMore: (_w, { read, folder }) => (/\bpath\s*=|\[tool\.uv\.workspace\]/.test(read(`${folder}pyproject.toml`) ?? '') ? 'pyproject.toml has a workspace or a dependency on a local path' : undefined),
  },
  { name: 'pipenv', family: 'python', install: (w) => w[0] === 'pipenv' && w[1] === 'install', manifests: () => [file('Pipfile'), file('Pipfile.lock', true)] },
  {
    name: 'go', family: 'go',
    install: (w) => w[0] === 'go' && w[1] === 'mod' && w[2] === 'download',
    manifests: () => [file('go.mod'), file('go.sum', true)],
    needsMore: (_w, { read, exists, folder }) => goModNeedsMore(read, exists, folder),
  },
  {
    name: 'maven', family: 'java',
    install: (w) => /mvnw?$/.test(w[0] ?? '') && w.some((x) => /^dependency:(go-offline|resolve)/.test(x)),
    manifests: () => [file('pom.xml')],
    needsMore: (w, { read, folder }) => {
      if ((w[0] ?? '').endsWith('mvnw')) return 'the Maven wrapper needs mvnw and .mvn/ too';
      if (has(w, '-s', '--settings', '-f', '--file') || w.some((x) => /^(--settings|--file)=/.test(x))) return 'the command names another file';
      return /<modules>/.test(read(`${folder}pom.xml`) ?? '') ? 'pom.xml has modules, whose pom.xml files the install needs too' : undefined;
    },
  },
  {
    // cargo reads a manifest only with its targets (src/main.rs, src/lib.rs): never with the
    // manifests alone.
    name: 'cargo', family: 'rust',
    install: (w) => w[0] === 'cargo' && w[1] === 'fetch',
    manifests: () => [file('Cargo.toml'), file('Cargo.lock', true)],
    needsMore: () => 'cargo needs the crate\'s sources (src/main.rs or src/lib.rs) to read Cargo.toml: copy a stub with the manifests, or use cargo-chef',
  },
  {
    name: 'bundler', family: 'ruby',
    install: (w) => w[0] === 'bundle' && w[1] === 'install',
    manifests: () => [file('Gemfile'), file('Gemfile.lock', true)],
    needsMore: (_w, { read, folder }) => (/^\s*gemspec\b|\bpath:/m.test(read(`${folder}Gemfile`) ?? '') ? 'the Gemfile installs the project\'s own gemspec or a local path' : undefined),
  },
  {
    name: 'composer', family: 'php',
    install: (w) => w[0] === 'composer' && w[1] === 'install',
    manifests: () => [file('composer.json'), file('composer.lock', true)],
    needsMore: (w, { read, folder }) => {
      const composer = json(read, `${folder}composer.json`);
      if (!composer) return undefined;
      if (composer.scripts && !has(w, '--no-scripts')) return 'composer.json has scripts, which the install runs';
      return /"(classmap|files)"/.test(JSON.stringify(composer.autoload ?? {})) && !has(w, '--no-autoloader') ? 'the autoloader is built from the sources' : undefined;
    },
  },
];

function goModNeedsMore(read: ReadFile, exists: Project['exists'], folder: string): string | undefined {
  const mod = read(`${folder}go.mod`);
  if (mod && /=>\s*\.{1,2}\//.test(mod)) return 'go.mod replaces a module with a local folder';
  if (exists(`${folder}go.work`)) return 'go.work names several modules';
  return undefined;
}

/** An install that needs the whole project: found and explained, never moved. */
export interface ProjectInstall {
  name: string;
  /** Undefined: any language's dependencies (make). */
  family?: Family;
  /** `inSources` says whether a path the command names is certainly among the copied sources. */
  matches: (w: string[], inSources: (path: string) => boolean) => boolean;
  /** The manifests to copy first, in the order worth naming. */
  manifests: string[];
  /** What to do instead, after "copy the manifests first". */
  advice: string;
}

export const PROJECT_INSTALLS: readonly ProjectInstall[] = [
  {
    name: 'pip install .', family: 'python',
    matches: (w, inSources) => {
      const pip = pipInstall(w);
      // `.`, or a path among the sources: a wheel built from them (`dist/*.whl`), a subproject.
      const local = (t: string): boolean => !/:\/\/|@/.test(t) && /\//.test(t) && inSources(t);
      return !!pip && !has(w, '--no-deps') && [...pip.targets, ...pip.editable].some((t) => PROJECT_PATH.test(t) || local(t));
    },
    manifests: ['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt'],
    advice: 'install the dependencies alone (from a requirements file, or a list exported from the lock), then copy the sources and `pip install --no-deps .`',
  },
  {
    name: 'setup.py install', family: 'python',
    matches: (w) => /^python3?(\.\d+)?$/.test(w[0] ?? '') && /^(\.\/)?setup\.py$/.test(w[1] ?? '') && ['install', 'develop'].includes(w[2] ?? ''),
    manifests: ['setup.py', 'setup.cfg', 'requirements.txt'],
    advice: 'install the dependencies alone (from a requirements file), then copy the sources and install the project',
  },
  {
    name: 'poetry install', family: 'python',
    matches: (w) => w[0] === 'poetry' && w[1] === 'install' && !has(w, '--no-root', '--only-root'),
    manifests: ['pyproject.toml', 'poetry.lock'],
    advice: 'run `poetry install --no-root` on them, then copy the sources and `poetry install --only-root`',
  },
  {
    name: 'uv sync', family: 'python',
    matches: (w) => w[0] === 'uv' && w[1] === 'sync' && !has(w, '--no-install-project', '--no-install-workspace'),
    manifests: ['pyproject.toml', 'uv.lock'],
    advice: 'run `uv sync --no-install-project` on them, then copy the sources and `uv sync`',
  },
  {
    name: 'make install',
    matches: (w) => w[0] === 'make' && w.slice(1).includes('install'),
    manifests: ['requirements.txt', 'pyproject.toml', 'package.json', 'go.mod', 'Cargo.toml', 'pom.xml', 'Gemfile', 'composer.json'],
    advice: 'install the dependencies they list in a step of their own, then copy the sources and run `make install`',
  },
];

/** Whether poetry's `package-mode = false` (no project to install): then `poetry install` installs dependencies only. */
export function poetryWithoutPackage(read: ReadFile, folder: string): boolean {
  return /^\s*package-mode\s*=\s*false/m.test(read(`${folder}pyproject.toml`) ?? '');
}
