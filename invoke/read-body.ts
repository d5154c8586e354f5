/**
 * Reading an HTTP request body under a cap, shared by the two local Lambda servers: the Runtime
 * API (a runtime's response or error report) and the Invoke API (a caller's payload). Both must
 * refuse an oversized body the moment it is known, without holding it.
 */
import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body of at most `limit` bytes. A larger one resolves `tooLarge` as soon as
 * that is known (from Content-Length, else when the running count passes `limit`) with nothing
 * kept, so no more than `limit` bytes are ever held and the caller can answer 413 at once; the
 * rest is drained unread, so the connection stays usable for keep-alive.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const overflow = () => {
      chunks.length = 0;
      req.off('data', onData);
      req.resume();
      resolve({ body: Buffer.alloc(0), tooLarge: true });
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) overflow();
      else chunks.push(chunk);
    };
    req.once('error', reject);
    // 'close' also fires after a normal 'end'; only an incomplete message means a hang-up.
    req.once('close', () => {
      if (!req.complete) reject(new Error('request body incomplete: client disconnected'));
    });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      overflow();
      return;
    }
    req.on('data', onData);
    req.once('end', () => resolve({ body: Buffer.concat(chunks), tooLarge: false }));
  });
}
