// A zTOC builder thread: the layer's bytes arrive in order as messages, each acknowledged once
// indexed (so the sender keeps only a few in flight); the zTOC goes back at the end.
import { parentPort, workerData } from 'node:worker_threads';
import { LazyImageError } from '../errors.js';
import { ZtocBuilder } from './build.js';
import type { ZtocThreadData, ZtocThreadReply, ZtocThreadRequest } from './ztocThread.js';

const data = workerData as ZtocThreadData;
const builder = new ZtocBuilder(data.compression, data.where, { spanSize: data.spanSize });

parentPort!.on('message', (message: ZtocThreadRequest) => {
  let reply: ZtocThreadReply;
  try {
    if (message.type === 'chunk') {
      builder.push(Buffer.from(message.data));
      reply = { type: 'ack' };
    } else {
      const built = builder.finish();
      reply = { type: 'done', bytes: built.bytes, digest: built.digest, spans: built.ztoc.maxSpanId + 1, files: built.ztoc.entries.length };
    }
  } catch (e) {
    reply = { type: 'error', code: e instanceof LazyImageError ? e.code : 'INTERNAL', message: (e as Error).message };
  }
  parentPort!.postMessage(reply);
});
