// `dist/worker.js`: the Node worker on stdin/stdout; stderr carries its log.
import { serveWorker } from './server.js';

void serveWorker(process.stdin, process.stdout, { log: (line) => process.stderr.write(`${line}\n`) }).then((code) => process.exit(code));
