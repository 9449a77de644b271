import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { renderChart } from '../../bench/lib/chart';
import { mark, type Measurement } from '../../bench/lib/report';
import { distribution, median, quantile } from '../../bench/lib/stats';
import { resultsDirOf } from '../../bench/lib/results';
import { renderTable } from '../../bench/lib/table';
import { PROJECT_ROOT } from '../../src/app/paths';

const measured = (value: number, op: '<' | '<=' | '>=' | '>' | '=', target: number): Measurement => ({
  figure: '1',
  name: 'm',
  value,
  unit: 'ms',
  target: { op, value: target },
});

describe('bench reporting', () => {
  it('takes nearest-rank percentiles and a true median', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(quantile(samples, 0.5)).to.equal(50);
    expect(quantile(samples, 0.99)).to.equal(99);
    expect(quantile([7], 0.99)).to.equal(7);
    expect(median([1, 2, 3, 10])).to.equal(2.5);
    expect(distribution([]).count).to.equal(0);
    expect(Number.isNaN(median([]))).to.equal(true);
  });

  it('marks a measurement against its target, and a missing value as short', () => {
    expect(mark(measured(9.9, '<', 10))).to.equal('pass');
    expect(mark(measured(10, '<', 10))).to.equal('SHORT');
    expect(mark(measured(0.9, '>=', 0.9))).to.equal('pass');
    expect(mark(measured(0, '=', 0))).to.equal('pass');
    expect(mark(measured(1, '=', 0))).to.equal('SHORT');
    expect(mark(measured(Number.NaN, '<', 10))).to.equal('SHORT');
    expect(mark({ figure: '1', name: 'm', value: 3, unit: 'ms' })).to.equal('');
  });

  it('prints each measurement with its target and mark, and each figure not run with its reason', () => {
    const table = renderTable([measured(12.5, '<', 10)], [{ figure: '3 postgres', reason: 'PostgreSQL is not reachable' }]);
    expect(table).to.match(/12\.5 ms\s+< 10 ms\s+SHORT/);
    expect(table).to.match(/3 postgres\s+not run: PostgreSQL is not reachable\s+SKIP/);
  });

  it('draws one line per latency series and one bar per ratio, escaping names', () => {
    const svg = renderChart({
      title: 'a <b> & c',
      latency: { 'one & two': [1, 2, 3], empty: [] },
      ratios: [{ label: 'guard / plain', value: 0.95, target: 0.9 }],
    });
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.match(/<polyline/g)).to.have.length(1);
    expect(svg).to.include('a &lt;b&gt; &amp; c');
    expect(svg).to.include('guard / plain: 0.95x (target ≥ 0.9x)');
    // Well-formed enough for a browser: no element repeats an attribute (a browser refuses the whole file).
    for (const tag of svg.match(/<[a-z]+\s[^>]*>/g) ?? []) {
      const names = [...tag.matchAll(/\s([a-z-]+)=/g)].map((m) => m[1]);
      expect(new Set(names).size, tag).to.equal(names.length);
    }
  });

  describe('where results go', () => {
    const committed = path.join(PROJECT_ROOT, 'bench', 'results');

    it('replaces the committed results only for a full run of every figure', () => {
      expect(resultsDirOf({ quick: false }, committed)).to.equal(committed);
    });

    it('writes a --quick or --only run beside them, in a folder git ignores', () => {
      const partial = path.join(committed, 'partial');
      expect(resultsDirOf({ quick: true }, committed)).to.equal(partial);
      expect(resultsDirOf({ quick: false, only: ['2'] }, committed)).to.equal(partial);
      const ignored = spawnSync('git', ['check-ignore', '-q', path.join(partial, 'latest.json')], { cwd: PROJECT_ROOT });
      expect(ignored.status, 'git check-ignore bench/results/partial/latest.json').to.equal(0);
    });

    it('writes where --out says, whatever the run', () => {
      expect(resultsDirOf({ quick: true, out: '/tmp/bench' }, committed)).to.equal('/tmp/bench');
      expect(resultsDirOf({ quick: false, out: '/tmp/bench' }, committed)).to.equal('/tmp/bench');
    });
  });
});
