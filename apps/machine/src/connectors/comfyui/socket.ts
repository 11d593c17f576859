import { ConveyorError } from '@conveyor/core';
import WebSocket from 'ws';

/** One JSON message from ComfyUI's `/ws`: `{ type, data }` (binary frames, previews and progress text, are skipped). */
export interface ComfyMessage {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/**
 * A client's WebSocket to ComfyUI, opened before the prompt is submitted so no message about it
 * can be missed. Messages queue up until `next()` takes them; the socket closing ends the queue.
 */
export class ComfySocket {
  private readonly buffered: ComfyMessage[] = [];
  private waiting: ((message: ComfyMessage | null) => void) | undefined;
  private closed = false;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      let message: ComfyMessage;
      try {
        message = JSON.parse(raw.toString()) as ComfyMessage;
      } catch {
        return;
      }
      if (typeof message?.type !== 'string' || typeof message.data !== 'object' || message.data === null) return;
      this.deliver(message);
    });
    ws.on('close', () => {
      this.closed = true;
      this.deliver(null);
    });
    // An error is always followed by 'close', which is what ends the stream of messages.
    ws.on('error', () => undefined);
  }

  static async open(url: string, signal: AbortSignal): Promise<ComfySocket> {
    const ws = new WebSocket(url, { handshakeTimeout: 10_000 });
    // Listening from the start: the first frames can arrive in the same read as the handshake.
    const socket = new ComfySocket(ws);
    const onAbort = () => ws.terminate();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
        ws.once('close', () => reject(new Error('closed during the handshake')));
      });
    } catch (err) {
      signal.throwIfAborted();
      throw new ConveyorError('COMFYUI_UNREACHABLE', `ComfyUI WebSocket ${url} could not be opened (${(err as Error).message})`, { cause: err });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return socket;
  }

  /** The next message, or null once the socket has closed. Rejects when `signal` aborts. */
  async next(signal: AbortSignal): Promise<ComfyMessage | null> {
    signal.throwIfAborted();
    const ready = this.buffered.shift();
    if (ready) return ready;
    if (this.closed) return null;
    return await new Promise<ComfyMessage | null>((resolve, reject) => {
      const onAbort = () => {
        this.waiting = undefined;
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting = (message) => {
        signal.removeEventListener('abort', onAbort);
        this.waiting = undefined;
        resolve(message);
      };
    });
  }

  close(): void {
    this.ws.terminate();
  }

  private deliver(message: ComfyMessage | null): void {
    const waiting = this.waiting;
    if (waiting) waiting(message);
    else if (message) this.buffered.push(message);
  }
}
