/** A transport carries the cluster bus's messages between nodes: every node receives what any node sends, itself included. */

export interface TransportEvents {
  /** A message some node sent (this one included). */
  message(raw: string): void;
  /** The transport can (true) or can no longer (false) both send and receive. */
  connection(up: boolean): void;
}

export interface Transport {
  /** Starts connecting, and keeps reconnecting after a loss; reports through `events`. Never rejects for an unreachable server. */
  start(events: TransportEvents): void;
  /** Rejects when the message cannot be handed to the server now. */
  send(raw: string): Promise<void>;
  close(): Promise<void>;
}
