// A zTOC builder thread, one layer at a time: `start`, then the layer's bytes in order, each
// chunk acknowledged once indexed (so the sender keeps only a few in flight), then `end`, which
// sends the zTOC back.
import { parentPort } from 'node:worker_threads';
import { LazyImageError } from '../errors.js';
import { ZtocBuilder } from './build.js';
import type { ZtocThreadReply, ZtocThreadRequest } from './ztocThread.js';

let builder: ZtocBuilder | undefined;

parentPort!.on('message', (message: ZtocThreadRequest) => {
  let reply: ZtocThreadReply | undefined;
  try {
    if (message.type === 'start') {
      builder = new ZtocBuilder(message.compression, message.where, { spanSize: message.spanSize, size: message.size });
    } else if (message.type === 'chunk') {
      builder!.push(Buffer.from(message.data));
      reply = { type: 'ack' };
    } else {
      const built = builder!.finish();
      builder = undefined;
      reply = { type: 'done', bytes: built.bytes, digest: built.digest, spans: built.ztoc.maxSpanId + 1, files: built.ztoc.entries.length };
    }
  } catch (e) {
    reply = { type: 'error', code: e instanceof LazyImageError ? e.code : 'INTERNAL', message: (e as Error).message };
  }
  if (reply) parentPort!.postMessage(reply);
});
