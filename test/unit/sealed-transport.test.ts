/** The sealed bus: only messages from a node of the same deployment, fresh and seen once, get through. */
import { expect } from 'chai';
import { ManualClock } from '../../src/base/clock';
import { SEAL_WINDOW_MS, SealedTransport, type RejectedReason } from '../../src/bus/sealed-transport';
import type { Transport, TransportEvents } from '../../src/bus/transport';

const SECRET = 's'.repeat(40);
const MESSAGE = JSON.stringify({ type: 'ack', node: 'n1', id: 'x', to: 'n2' });

/** A wire every transport on it hears, as Redis pub/sub or NOTIFY would be; `raw` is what crossed it. */
class Wire {
  readonly raw: string[] = [];
  private readonly listeners: TransportEvents[] = [];
  transport(): Transport {
    return {
      start: (events) => {
        this.listeners.push(events);
        events.connection(true);
      },
      send: async (raw) => this.inject(raw),
      close: async () => undefined,
    };
  }
  inject(raw: string): void {
    this.raw.push(raw);
    for (const listener of this.listeners) listener.message(raw);
  }
}

function node(wire: Wire, clock: ManualClock, secret = SECRET, channel = 'panelguard_invalidations') {
  const received: string[] = [];
  const rejected: RejectedReason[] = [];
  const transport = new SealedTransport(wire.transport(), { secret, channel, clock, onRejected: (reason) => rejected.push(reason) });
  transport.start({ message: (raw) => received.push(raw), connection: () => undefined });
  return { transport, received, rejected };
}

describe('sealed bus transport', () => {
  let clock: ManualClock;
  let wire: Wire;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 11, 1, 12));
    wire = new Wire();
  });

  it('delivers what a node of the same deployment sent, unchanged', async () => {
    const a = node(wire, clock);
    const b = node(wire, clock);
    await a.transport.send(MESSAGE);
    expect(b.received).to.deep.equal([MESSAGE]);
    expect(a.received).to.deep.equal([MESSAGE]);
  });

  it('drops and counts an unsealed message, as anyone with access to the channel could publish', () => {
    const b = node(wire, clock);
    wire.inject(MESSAGE);
    expect(b.received).to.deep.equal([]);
    expect(b.rejected).to.deep.equal(['malformed']);
  });

  it('drops a message sealed with another secret or for another channel', async () => {
    const b = node(wire, clock);
    await node(wire, clock, 't'.repeat(40)).transport.send(MESSAGE);
    await node(wire, clock, SECRET, 'another_channel').transport.send(MESSAGE);
    expect(b.received).to.deep.equal([]);
    expect(b.rejected).to.deep.equal(['mac', 'mac']);
  });

  it('drops a genuine message whose content was changed on the way', async () => {
    const a = node(wire, clock);
    const sealed = a.transport.seal(MESSAGE);
    const b = node(wire, clock);
    wire.inject(sealed.replace('"to":"n2"', '"to":"n3"'));
    expect(b.received).to.deep.equal([]);
    expect(b.rejected).to.deep.equal(['mac']);
  });

  it('drops a genuine message replayed', async () => {
    const b = node(wire, clock);
    await node(wire, clock).transport.send(MESSAGE);
    wire.inject(wire.raw[0]);
    expect(b.received).to.deep.equal([MESSAGE]);
    expect(b.rejected).to.deep.equal(['replayed']);
  });

  it('drops a genuine message sent longer ago than the window allows, and takes one just inside it', async () => {
    const a = node(wire, clock);
    const old = a.transport.seal(MESSAGE);
    const edge = a.transport.seal(MESSAGE);
    const b = node(wire, clock);
    clock.advance(SEAL_WINDOW_MS);
    wire.inject(edge);
    clock.advance(1);
    wire.inject(old);
    expect(b.received).to.deep.equal([MESSAGE]);
    expect(b.rejected).to.deep.equal(['stale']);
  });
});
