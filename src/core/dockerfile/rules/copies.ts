// What a COPY brings in, and what a RUN may be moved across: shared by the ordering rules.
import { posix } from 'node:path';
import { parentStage, type DockerInstruction, type DockerfileModel, type Stage } from '../model.js';

/** A COPY/ADD from the build context (not from another stage, not a URL). */
export function fromContext(ins: DockerInstruction): boolean {
  return (ins.keyword === 'COPY' || ins.keyword === 'ADD') && !ins.flags.from && ins.words.length >= 2 && !ins.words.slice(0, -1).some((s) => /^https?:\/\//.test(s));
}

/** The source paths of a COPY/ADD, as paths in the context (without a leading `./` or `/`). */
export function sources(ins: DockerInstruction): string[] {
  return ins.words.slice(0, -1).map((s) => (ins.flags.from ? s : s.replace(/^\.?\//, '')));
}

/**
 * Instructions a RUN can move above without changing what it sees. Not ENV or ARG: their values
 * reach the command's environment even unnamed (NODE_ENV=production changes what npm installs).
 */
export function movableAcross(ins: DockerInstruction): boolean {
  return ['LABEL', 'EXPOSE', 'MAINTAINER', 'STOPSIGNAL', 'HEALTHCHECK', 'CMD', 'ENTRYPOINT'].includes(ins.keyword);
}

/** A source that brings a whole tree (`.`, `*`, a folder), not named files. */
export function isTree(source: string): boolean {
  const s = source.replace(/^\.\//, '');
  if (s === '' || s === '.' || s === '*' || s.endsWith('/')) return true;
  const base = s.split('/').pop() ?? s;
  // Names without a dot are folders, but for the usual extensionless files (and CAPITALS: VERSION, NOTICE).
  return !base.includes('.') && !base.includes('*') && !/^(Dockerfile|Makefile|Gemfile|Pipfile|Procfile|Rakefile|Jenkinsfile|gradlew|mvnw|README)$/i.test(base) && !/^[A-Z0-9_]+$/.test(base);
}

/**
 * The stage's working directory before instruction `index`, as a path: absolute once a WORKDIR
 * names one, else relative to the directory the stage starts in (''). Undefined when a variable
 * makes it unknown.
 */
export function workdirBefore(stage: Stage, index: number): string | undefined {
  let dir: string | undefined = '';
  for (const ins of stage.instructions.slice(0, index)) {
    if (ins.keyword === 'WORKDIR') dir = resolvePath(dir, ins.words[0] ?? '');
  }
  return dir;
}

/** `path` seen from `dir`: absolute, or relative to the stage's first directory; undefined when unknown. */
export function resolvePath(dir: string | undefined, path: string): string | undefined {
  if (path.includes('$')) return undefined;
  if (path.startsWith('/')) return posix.normalize(path).replace(/(.)\/$/, '$1');
  if (dir === undefined) return undefined;
  const joined = posix.join(dir || '.', path).replace(/(.)\/$/, '$1');
  return joined === '.' ? '' : joined;
}

/** Where `path` sits under `dir`: its relative path, null when outside, undefined when it cannot be told. */
export function under(path: string, dir: string): string | null | undefined {
  if (path.startsWith('/') !== dir.startsWith('/') && dir !== '') return undefined;
  if (dir === '') return path.startsWith('/') ? undefined : path;
  if (dir === '/') return path.slice(1);
  if (path === dir) return '';
  return path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : null;
}

/**
 * Where a COPY of named files may put each source: into the destination folder, or (one source,
 * no trailing slash) at the destination itself unless that is a folder already. Both are listed
 * when the Dockerfile alone cannot tell.
 */
export function copyTargets(ins: DockerInstruction, dir: string | undefined): Array<{ source: string; targets: Array<string | undefined> }> {
  const dest = ins.words.at(-1) ?? '';
  const srcs = sources(ins);
  const folder = srcs.length > 1 || dest.endsWith('/') || dest === '.' || dest === './';
  return srcs.map((source) => {
    const into = resolvePath(dir, posix.join(dest, posix.basename(source)));
    return { source, targets: folder ? [into] : [resolvePath(dir, dest), into] };
  });
}

/** The first COPY of a whole tree (`.`, a folder) before instruction `index`: named files are not "the sources". */
export function sourceCopyBefore(stage: Stage, index: number): DockerInstruction | undefined {
  return stage.instructions.slice(0, index).find((i) => fromContext(i) && sources(i).some(isTree));
}

/** The context folder the sources come from (`COPY app/ .` -> `app/`); undefined for several sources. */
export function sourceFolder(sourceCopy: DockerInstruction): string | undefined {
  const tree = sources(sourceCopy);
  if (tree.length !== 1) return undefined;
  const only = tree[0] as string;
  return only === '.' || only === '' || only === '*' ? '' : `${only.replace(/\/$/, '')}/`;
}

/** The instructions of the stages this one is built FROM, oldest first. */
export function inherited(model: DockerfileModel, stage: Stage): DockerInstruction[] {
  const parent = parentStage(model.stages, stage);
  return parent ? [...inherited(model, parent), ...parent.instructions] : [];
}
