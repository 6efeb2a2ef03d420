import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrace } from '../../../src/core/optimize/trace.js';

/** A string as `strace -xx` prints it. */
const hex = (s: string): string => `"${[...Buffer.from(s)].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}"`;
/** A descriptor's path as `strace -y -xx` prints it. */
const fd = (n: number | 'AT_FDCWD', path: string): string => `${n}<${hex(path).slice(1, -1)}>`;
const argv = (args: string[]): string => `[${args.map(hex).join(', ')}]`;
const ARGS = ['python3', '-c', 'print(1)'];

/** What runc does before the workload: its own binary, runc init, files of the host and of the new root. */
const RUNC = [
  `100 execve(${hex('/usr/sbin/runc')}, ${argv(['runc', 'run', 'x'])}, ${argv(['PATH=/usr/bin'])}) = 0`,
  `100 openat(${fd('AT_FDCWD', '/tmp/job')}, ${hex('config.json')}, O_RDONLY|O_CLOEXEC) = ${fd(3, '/tmp/job/config.json')}`,
  `100 clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 101`,
  `101 execve(${hex('/proc/self/exe')}, ${argv(['runc', 'init'])}, ${argv([])}) = 0`,
  `101 clone(child_stack=NULL, flags=SIGCHLD) = 1 /* 102 in strace's PID NS */`,
  `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/etc/passwd')}, O_RDONLY|O_CLOEXEC) = ${fd(5, '/etc/passwd')}`,
  `102 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0} => {parent_tid=[103]}, 88) = 2 /* 103 in strace's PID NS */`,
  `103 openat(${fd('AT_FDCWD', '/')}, ${hex('/etc/group')}, O_RDONLY) = ${fd(6, '/etc/group')}`,
];

describe('parseTrace', () => {
  it('keeps the workload\'s calls, from its execve on, in its processes and threads', () => {
    const text = [
      ...RUNC,
      `102 execve(${hex('/usr/bin/python3')}, ${argv(ARGS)}, ${argv(['PATH=/usr/bin', 'HOME=/root'])}) = 0`,
      `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/etc/ld.so.cache')}, O_RDONLY|O_CLOEXEC) = ${fd(3, '/etc/ld.so.cache')}`,
      `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/lib/libc.so.6')}, O_RDONLY|O_CLOEXEC) = ${fd(3, '/usr/lib/libc.so.6')}`,
      `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/nope')}, O_RDONLY) = -1 ENOENT (No such file or directory)`,
      `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/usr/lib/python3')}, O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = ${fd(4, '/usr/lib/python3')}`,
      `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/usr/bin/env')}, O_RDONLY|O_PATH) = ${fd(4, '/usr/bin/env')}`,
      `102 openat(${fd('AT_FDCWD', '/')}, ${hex('/dev/null')}, O_RDONLY) = ${fd(4, '/dev/null')}`,
      `102 pipe2([3, 4], 0) = 0`,
      // A child: its first call comes before its parent's clone returns, as strace interleaves them.
      `102 vfork( <unfinished ...>`,
      `104 execve(${hex('/bin/sh')}, ${argv(['sh', '-c', 'x'])}, ${argv([])} <unfinished ...>`,
      `102 <... vfork resumed>)              = 3 /* 104 in strace's PID NS */`,
      `104 <... execve resumed>)             = 0`,
      `104 openat(${fd('AT_FDCWD', '/srv')}, ${hex('weird>name "q"')}, O_RDONLY) = ${fd(3, '/srv/weird>name "q"')}`,
      `104 execve(${hex('./run')}, ${argv(['./run'])}, ${argv([])}) = 0`,
      `104 execveat(${fd(7, '/opt')}, ${hex('')}, ${argv(['tool'])}, ${argv([])}, AT_EMPTY_PATH) = 0`,
      `104 execve(${hex('/usr/bin/missing')}, ${argv(['missing'])}, ${argv([])}) = -1 ENOENT (No such file or directory)`,
      // runc's own parent, after the workload: not the workload's.
      `100 openat(${fd('AT_FDCWD', '/tmp/job')}, ${hex('/run/runc/x')}, O_RDONLY) = ${fd(7, '/run/runc/x')}`,
      `102 +++ exited with 0 +++`,
    ].join('\n');
    const trace = parseTrace(text, ARGS, '/');
    assert.equal(trace.started, true);
    assert.deepEqual(trace.accesses.map((a) => `${a.pid} ${a.kind} ${a.path}`), [
      '102 exec /usr/bin/python3',
      '102 open /etc/ld.so.cache',
      '102 open /usr/lib/libc.so.6',
      '102 open /dev/null',
      '104 exec /bin/sh',
      '104 open /srv/weird>name "q"',
      '104 exec /srv/run',
      '104 exec /opt',
    ]);
  });

  it('says the workload never started when no execve carries its argv', () => {
    const trace = parseTrace([...RUNC, `102 execve(${hex('/usr/bin/python3')}, ${argv(['python3'])}, ${argv([])}) = 0`].join('\n'), ARGS, '/');
    assert.deepEqual(trace, { started: false, accesses: [] });
  });

  it('resolves a relative execve against the folder the process was last seen in, else the container\'s', () => {
    const text = [
      `7 execve(${hex('/app/start')}, ${argv(['/app/start'])}, ${argv([])}) = 0`,
      `7 execve(${hex('bin/next')}, ${argv(['next'])}, ${argv([])}) = 0`,
      `7 openat(${fd('AT_FDCWD', '/work')}, ${hex('x')}, O_RDONLY) = ${fd(3, '/work/x')}`,
      `7 execve(${hex('../up')}, ${argv(['up'])}, ${argv([])}) = 0`,
    ].join('\n');
    assert.deepEqual(parseTrace(text, ['/app/start'], '/app').accesses.map((a) => a.path), ['/app/start', '/app/bin/next', '/work/x', '/up']);
  });
});
