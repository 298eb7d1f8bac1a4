/**
 * Looks into a KMS — the fake or a real one — through its own JSON-RPC API, the way an operator
 * would: the pipelines whose name starts with a prefix, and the types of the elements in them.
 * Used by the integration suite to assert that nothing leaked, unchanged against a real KMS.
 */
import { WebSocket } from 'ws';

interface RpcAnswer {
  result?: { value?: unknown; sessionId?: string };
  error?: { code: number; message: string };
}

export class KmsInspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, (a: RpcAnswer) => void>();
  #nextId = 1;
  #sessionId: string | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (d: Buffer) => {
      const msg = JSON.parse(d.toString()) as RpcAnswer & { id?: number };
      if (typeof msg.id === 'number') {
        this.#pending.get(msg.id)?.(msg);
        this.#pending.delete(msg.id);
      }
    });
  }

  static async connect(uri: string): Promise<KmsInspector> {
    const ws = new WebSocket(uri);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new KmsInspector(ws);
  }

  #call(method: string, params: Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (a) => {
        if (a.result?.sessionId) this.#sessionId = a.result.sessionId;
        if (a.error) reject(new Error(`${a.error.code} ${a.error.message}`));
        else resolve(a.result?.value);
      });
      const withSession = this.#sessionId ? { ...params, sessionId: this.#sessionId } : params;
      this.#ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: withSession }));
    });
  }

  #invoke(object: string, operation: string): Promise<unknown> {
    return this.#call('invoke', { object, operation, operationParams: {} });
  }

  /** Ids of the pipelines whose name starts with `prefix` (e.g. `theia/<instance>/`). */
  async pipelines(prefix: string): Promise<string[]> {
    const all = (await this.#invoke('manager_ServerManager', 'getPipelines')) as string[];
    const mine: string[] = [];
    for (const id of all) {
      const name = (await this.#invoke(id, 'getName').catch(() => '')) as string;
      if (name.startsWith(prefix)) mine.push(id);
    }
    return mine;
  }

  /** Element type counts (from the id suffix, e.g. `WebRtcEndpoint`) in the pipelines named `prefix…`. */
  async elements(prefix: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const p of await this.pipelines(prefix)) {
      counts.MediaPipeline = (counts.MediaPipeline ?? 0) + 1;
      const children = (await this.#invoke(p, 'getChildren')) as string[];
      for (const c of children) {
        const type = /_kurento\.([A-Za-z]+)$/.exec(c)?.[1] ?? 'unknown';
        counts[type] = (counts[type] ?? 0) + 1;
      }
    }
    return counts;
  }

  close(): void {
    this.#ws.close();
  }
}
