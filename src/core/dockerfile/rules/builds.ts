// dependency-step-missing: a compiled language built right after the sources are copied, with no
// step that fetches (or builds) its dependencies from the manifests first, so every source change
// downloads them again. Go gets a fix: go.mod and go.sum, then `go mod download`, above the
// sources. cargo, Maven and Gradle need more than their manifests for such a step (a stub target,
// the modules' poms, the wrapper): they get the recipe in words.
import { posix } from 'node:path';
import { firstLineRange, type Finding, type Fix, type Rule, type RuleContext } from '../findings.js';
import type { DockerInstruction, Stage } from '../model.js';
import { mounts, runCommand, simpleCommands, words } from '../shell.js';
import { fromContext, inherited, isTree, resolvePath, sourceFolder, sources, workdirBefore } from './copies.js';
import { ECOSYSTEMS, has, type Family, type ReadFile } from './ecosystems.js';

const nothing: ReadFile = () => undefined;

/** A compiled language's build, and the step that would fetch its dependencies first. */
interface Build {
  family: Family;
  tool: string;
  /** One simple command that compiles the project (and so fetches what it lacks). */
  builds: (w: string[]) => boolean;
  /** Dependencies come from elsewhere: vendored, offline. */
  offline: (w: string[]) => boolean;
  /** A command that fetches or builds the dependencies (before the sources, that is the step wanted). */
  prefetches: (w: string[]) => boolean;
  manifests: string[];
  /** Folders of the build tool itself, copied with the manifests: not the sources. */
  toolFolders: string[];
  /** The dependency-only step, in words. */
  advice: string;
}

/** Gradle tasks that compile (`:app:bootJar` too); a custom task (`downloadRepos`) may fetch only. */
const gradleTask = (x: string): boolean => /^(:?[\w-]+:)*(build|assemble|classes|compileJava|compileKotlin|jar|bootJar|bootWar|war|shadowJar|installDist|distTar|distZip|test|check|nativeCompile|buildFatJar)$/.test(x);
const mavenGoal = (x: string): boolean => /^(clean|compile|test|package|install|verify|deploy|spring-boot:[\w-]+|quarkus:[\w-]+|jib:[\w-]+)$/.test(x);

const BUILDS: readonly Build[] = [
  {
    family: 'rust', tool: 'cargo',
    builds: (w) => w[0] === 'cargo' && (['build', 'test', 'rustc'].includes(w[1] ?? '') || (w[1] === 'install' && has(w, '--path'))),
    offline: (w) => has(w, '--offline', '--frozen'),
    prefetches: (w) => w[0] === 'cargo' && (['fetch', 'build', 'vendor'].includes(w[1] ?? '') || (w[1] === 'chef' && w[2] === 'cook')),
    manifests: ['Cargo.toml', 'Cargo.lock'],
    toolFolders: ['.cargo'],
    advice: 'build the dependencies alone first: cargo-chef (`cargo chef prepare`, then `cargo chef cook` on the recipe), or Cargo.toml and Cargo.lock with a stub src/main.rs and a `cargo build`; or a cache mount on /usr/local/cargo/registry and target',
  },
  {
    family: 'go', tool: 'go',
    builds: (w) => w[0] === 'go' && (w[1] === 'build' || w[1] === 'test' || (w[1] === 'install' && !w.some((x) => x.includes('@')))),
    offline: (w) => w.some((x) => /^-mod=vendor$/.test(x)),
    prefetches: (w) => w[0] === 'go' && (w[1] === 'build' || (w[1] === 'mod' && ['download', 'vendor', 'tidy'].includes(w[2] ?? '')) || (w[1] === 'list' && has(w, '-m'))),
    manifests: ['go.mod', 'go.sum'],
    toolFolders: [],
    advice: 'copy go.mod and go.sum and run `go mod download` before copying the sources; or a cache mount on /go/pkg/mod',
  },
  {
    family: 'java', tool: 'Maven',
    builds: (w) => /(^|\/)mvnw?$/.test(w[0] ?? '') && w.slice(1).some(mavenGoal),
    offline: (w) => has(w, '-o', '--offline'),
    prefetches: (w) => /(^|\/)mvnw?$/.test(w[0] ?? ''),
    manifests: ['pom.xml'],
    toolFolders: ['.mvn'],
    advice: 'copy pom.xml and run `mvn dependency:go-offline` before copying the sources; or a cache mount on /root/.m2',
  },
  {
    family: 'java', tool: 'Gradle',
    builds: (w) => /(^|\/)gradlew?$/.test(w[0] ?? '') && w.slice(1).some(gradleTask),
    offline: (w) => has(w, '--offline'),
    prefetches: (w) => /(^|\/)gradlew?$/.test(w[0] ?? ''),
    manifests: ['settings.gradle', 'build.gradle', 'settings.gradle.kts', 'build.gradle.kts', 'gradle.properties'],
    toolFolders: ['gradle'],
    advice: 'copy the build scripts (settings.gradle, build.gradle, gradle/) and resolve the dependencies in a step of their own (e.g. `gradle dependencies`); or a cache mount on /root/.gradle',
  },
];

/** A `COPY --from` that brings dependencies built elsewhere (a cargo-chef or module-cache stage). */
const DEPENDENCY_PATHS = /(^|\/)(target|\.?cargo|registry|pkg\/mod|\.m2|\.gradle|vendor)(\/|$)/;

export const dependencyStepMissing: Rule = {
  id: 'dependency-step-missing',
  group: 'cache',
  check(ctx: RuleContext): Finding[] {
    const findings: Finding[] = [];
    for (const stage of ctx.model.stages) {
      const reported = new Set<Build>();
      for (const [index, run] of stage.instructions.entries()) {
        const commands = simpleCommands(runCommand(run)).map(words);
        const build = BUILDS.find((b) => !reported.has(b) && commands.some(b.builds));
        const w = build && commands.find(build.builds);
        if (!build || !w || build.offline(w)) continue;
        // A cache mount keeps the downloads across builds; a bind mount copies no sources.
        if (mounts(run).some((m) => m.type === 'cache' || m.type === 'bind')) continue;
        // The sources: the last tree copied before the build, here or in a stage this one is built
        // FROM, that is not the build tool's own folder (gradle/, .mvn/).
        const chain = [...inherited(ctx.model, stage), ...stage.instructions.slice(0, index)];
        const sourceCopy = chain.filter((i) => fromContext(i) && sources(i).some((s) => isTree(s) && !build.toolFolders.includes(posix.basename(s)))).at(-1);
        if (!sourceCopy) continue;
        const at = chain.indexOf(sourceCopy);
        if (chain.slice(0, at).some((i) => prefetches(i, build))) continue;
        // An install of the same language after the sources is deps-before-sources' finding.
        if (chain.slice(at + 1).some((i) => simpleCommands(runCommand(i)).map(words).some((c) => ECOSYSTEMS.some((e) => e.family === build.family && e.install(c))))) continue;
        const folder = sourceFolder(sourceCopy);
        if (nothingToFetch(ctx, build, folder ?? '', [...chain, run])) continue;
        reported.add(build);
        findings.push(finding(ctx, stage, run, sourceCopy, folder, build));
      }
    }
    return findings;
  },
};

/** A step before the sources that fetches or builds this language's dependencies. */
function prefetches(ins: DockerInstruction, build: Build): boolean {
  if (ins.keyword === 'COPY' && ins.flags.from) return sources(ins).some((s) => DEPENDENCY_PATHS.test(s));
  return simpleCommands(runCommand(ins)).map(words).some(build.prefetches);
}

/** What the context and the stage say: no module to fetch for, vendored modules, nothing required. */
function nothingToFetch({ exists, read = nothing }: RuleContext, build: Build, folder: string, instructions: DockerInstruction[]): boolean {
  // The manifests sit with the sources (`COPY . .`), or at the root when only src/ is the folder copied.
  const place = [folder, ''].find((f) => build.manifests.some((m) => exists?.(`${f}${m}`)));
  if (exists && place === undefined) return true;
  const at = place ?? folder;
  switch (build.family) {
    case 'go': {
      if (exists?.(`${at}vendor/modules.txt`)) return true;
      if (instructions.some((i) => (i.keyword === 'ENV' || i.keyword === 'ARG') && /GOFLAGS\S*-mod=vendor/.test(i.args))) return true;
      const mod = read(`${at}go.mod`);
      return mod !== undefined && !/^\s*require\b/m.test(mod);
    }
    case 'rust': {
      // A workspace's members have the dependencies; a lone crate lists them in a table of its own.
      const manifest = read(`${at}Cargo.toml`);
      return manifest !== undefined && !/^\s*\[(workspace\]|(workspace\.|target\.[^\]]*\.)?(build-|dev-)?dependencies\b)/m.test(manifest);
    }
    default:
      return false;
  }
}

const NOT_FIXED: Record<string, string> = {
  cargo: 'cargo reads Cargo.toml only with the crate\'s sources',
  Maven: 'the modules, the wrapper or settings may be needed too',
  Gradle: 'Gradle needs its wrapper and build scripts, and has no standard dependency-only task',
};

function finding(ctx: RuleContext, stage: Stage, run: DockerInstruction, sourceCopy: DockerInstruction, folder: string | undefined, build: Build): Finding {
  const why = build.family === 'go' ? goFixProblem(ctx, stage, run, sourceCopy, folder) : NOT_FIXED[build.tool];
  const again = build.family === 'rust' ? 'downloads and compiles them again' : 'downloads them again';
  const message = `The sources are copied before ${build.tool} builds (line ${run.range.start.line + 1}) with no step that fetches the dependencies first: every source change ${again}`;
  return {
    ruleId: dependencyStepMissing.id,
    group: 'cache',
    severity: 'information',
    range: firstLineRange(ctx.model, sourceCopy),
    message: why ? `${message}. Not fixed automatically: ${why}` : message,
    rationale: `Fetch the dependencies in a step of their own before copying the sources: ${build.advice}. A source edit then reuses that layer.`,
    source: 'docs.docker.com/build/cache/optimize/#order-your-layers',
    ...(why ? {} : { fix: goFix(ctx, stage, sourceCopy, folder ?? '') }),
  };
}

/** Why `go mod download` above the sources might not see what the build sees. */
function goFixProblem({ read = nothing, exists }: RuleContext, stage: Stage, run: DockerInstruction, sourceCopy: DockerInstruction, folder: string | undefined): string | undefined {
  if (folder === undefined) return 'the sources come from several places';
  const copyIndex = stage.instructions.indexOf(sourceCopy);
  if (copyIndex < 0) return 'the sources are copied in the stage this one is built FROM';
  const runIndex = stage.instructions.indexOf(run);
  if (/\$/.test(sourceCopy.args)) return 'the sources\' COPY names a variable';
  // The download must run where go.mod lands (the working directory of the sources' COPY), as the build does.
  const dir = workdirBefore(stage, copyIndex);
  if (dir === undefined) return 'the working directory is named by a variable';
  if (resolvePath(dir, sourceCopy.words.at(-1) ?? '') !== dir || workdirBefore(stage, runIndex) !== dir) return 'the build does not run in the folder the sources are copied to';
  const changes = stage.instructions.slice(copyIndex + 1, runIndex).find((i) => ['ENV', 'ARG', 'USER', 'WORKDIR', 'SHELL', 'ONBUILD'].includes(i.keyword));
  if (changes) return `the ${changes.keyword} at line ${changes.range.start.line + 1} may change what the build fetches`;
  const command = runCommand(run);
  if (/(^|[\s;&|(])(cd|pushd)\s/.test(command) || /\bgo\s+\w+\s+(.*\s)?-C\b/.test(command)) return 'the build runs in another folder';
  if (/(^|[\s;&|(])GO(PROXY|PRIVATE|NOSUMDB|NOPROXY|INSECURE|FLAGS|SUMDB|AUTH)=/.test(command) || mounts(run).some((m) => m.type === 'secret' || m.type === 'ssh')) return 'the build fetches with settings of its own';
  if (exists?.(`${folder}go.work`)) return 'go.work names several modules';
  if (/=>\s*\.{1,2}\//.test(read(`${folder}go.mod`) ?? '')) return 'go.mod replaces a module with a local folder';
  return undefined;
}

function goFix({ exists }: RuleContext, stage: Stage, sourceCopy: DockerInstruction, folder: string): Fix {
  const copyIndex = stage.instructions.indexOf(sourceCopy);
  const copied = new Set(stage.instructions.slice(0, copyIndex).filter(fromContext).flatMap(sources));
  const names = ['go.mod', ...(exists?.(`${folder}go.sum`) ? ['go.sum'] : [])].map((f) => `${folder}${f}`).filter((f) => !copied.has(f));
  const destination = sourceCopy.words.at(-1) ?? '.';
  const target = destination === '.' ? './' : destination.endsWith('/') ? destination : `${destination}/`;
  const chown = sourceCopy.flags.chown?.[0];
  const copyLine = names.length ? `COPY ${chown ? `--chown=${chown} ` : ''}${names.join(' ')} ${target}\n` : '';
  const at = { line: sourceCopy.firstLine, character: 0 };
  return {
    title: names.length ? `Copy ${names.join(', ')} and download the modules before the sources` : 'Download the modules before copying the sources',
    edits: [{ range: { start: at, end: at }, newText: `${copyLine}RUN go mod download\n` }],
  };
}
