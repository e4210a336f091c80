// A TCP relay on 127.0.0.1 in front of a real Redis, to cut the network between a client and
// Redis at a moment the test chooses and keep it cut (connections refused) until it is restored,
// or to silence the connections open now (packets lost, no reset) while new ones work.
// Redis itself answers every command; only the connection is taken away.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Each relayed connection: the client's side and Redis's. */
  private readonly pairs = new Set<[Socket, Socket]>();

  private constructor(
    private readonly target: { host: string; port: number },
    private port: number,
  ) {}

  /** Starts relaying a free port of 127.0.0.1 to `targetUrl` (redis://host:port). */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const { hostname, port } = new URL(targetUrl);
    const proxy = new TcpProxy({ host: hostname, port: Number(port) }, 0);
    await proxy.listen();
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Drops every connection and stops listening: the clients' reconnection attempts are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.pairs.clear();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }

  /** Listens again on the same port: the clients reconnect. */
  async restore(): Promise<void> {
    if (this.server === undefined) await this.listen();
  }

  /**
   * The connections open now stop carrying anything, either way, and stay open: no FIN, no RST,
   * as when packets are dropped on the way (a NAT or firewall that forgot the flow, a cable
   * pulled). The client's writes succeed and nothing ever answers. New connections work.
   * Returns how many connections were silenced.
   */
  silence(): number {
    for (const [inbound, outbound] of this.pairs) {
      inbound.unpipe(outbound);
      outbound.unpipe(inbound);
      inbound.pause();
      outbound.pause();
    }
    const count = this.pairs.size;
    this.pairs.clear();
    return count;
  }

  async stop(): Promise<void> {
    await this.cut();
  }

  private async listen(): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = createConnection(this.target);
      this.sockets.add(inbound).add(outbound);
      const pair: [Socket, Socket] = [inbound, outbound];
      this.pairs.add(pair);
      const close = () => {
        this.pairs.delete(pair);
        inbound.destroy();
        outbound.destroy();
        this.sockets.delete(inbound);
        this.sockets.delete(outbound);
      };
      inbound.on('error', close).on('close', close).pipe(outbound);
      outbound.on('error', close).on('close', close).pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
}
