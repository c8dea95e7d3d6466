// One Kafka admin client for a long-running owner (the sync service), connected on first use
// and kept: a client per use (e.g. per rebalance) costs a connection, a metadata fetch and a
// disconnect each time, on a path that runs while the group is busiest.
import type { Admin, Kafka } from 'kafkajs';

export class SharedAdmin {
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;
  private closed = false;

  constructor(private readonly kafka: Pick<Kafka, 'admin'>) {}

  /** The connected client; a failed connect is tried again by the next call. */
  get(): Promise<Admin> {
    if (this.closed) return Promise.reject(new Error('the Kafka admin client is closed'));
    this.connecting ??= (async () => {
      this.admin ??= this.kafka.admin();
      await this.admin.connect();
      return this.admin;
    })().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  /** Disconnects, if it ever connected; later get() calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    // A connect under way finishes first, or it would leave a connection open behind us.
    await this.connecting?.catch(() => undefined);
    this.connecting = undefined;
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = undefined;
  }
}
