import { callRecord } from '../../test/support/call-records';
import type { CallRecord, CallRecorder } from './call-record';
import { OrderedRecorder } from './ordered-recorder';

function sink(): CallRecorder & { ids: string[] } {
  const ids: string[] = [];
  return { ids, record: (rec: CallRecord) => void ids.push(rec.id) };
}

const rec = (id: string, sessionOf: string | null = null) =>
  callRecord([{ role: 'user', content: id }], 'ok', { id, sessionOf });

describe('OrderedRecorder', () => {
  it('passes records without sessionOf straight through, in order', () => {
    const out = sink();
    const r = new OrderedRecorder(out);
    r.record(rec('a'));
    r.record(rec('b'));
    expect(out.ids).toEqual(['a', 'b']);
  });

  it('holds records naming an announced parent until the parent is recorded, then keeps their order', () => {
    const out = sink();
    const r = new OrderedRecorder(out);
    r.expect('parent');
    r.record(rec('d1', 'parent'));
    r.record(rec('other'));
    r.record(rec('d2', 'parent'));
    expect(out.ids).toEqual(['other']);
    r.record(rec('parent'));
    expect(out.ids).toEqual(['other', 'parent', 'd1', 'd2']);
    expect(r.waiting).toBe(0);
  });

  it('lets a record through when its parent was never announced or is already recorded', () => {
    const out = sink();
    const r = new OrderedRecorder(out);
    r.record(rec('d0', 'unknown'));
    r.expect('p');
    r.record(rec('p'));
    r.record(rec('late', 'p'));
    expect(out.ids).toEqual(['d0', 'p', 'late']);
  });

  it('announcing a parent twice keeps what it already holds', () => {
    const out = sink();
    const r = new OrderedRecorder(out);
    r.expect('p');
    r.record(rec('d1', 'p'));
    r.expect('p');
    r.record(rec('p'));
    expect(out.ids).toEqual(['p', 'd1']);
  });

  it('releases nested holds in order: parent, child, grandchild', () => {
    const out = sink();
    const r = new OrderedRecorder(out);
    r.expect('p');
    r.expect('c');
    r.record(rec('g', 'c'));
    r.record(rec('c', 'p'));
    r.record(rec('p'));
    expect(out.ids).toEqual(['p', 'c', 'g']);
  });

  it('lets the oldest parent go when too many are waited on, so nothing is held forever', () => {
    const out = sink();
    const r = new OrderedRecorder(out, 2);
    r.expect('p1');
    r.record(rec('d1', 'p1'));
    r.expect('p2');
    r.expect('p3');
    expect(out.ids).toEqual(['d1']);
    expect(r.waiting).toBe(2);
    r.record(rec('d3', 'p3'));
    r.record(rec('p3'));
    expect(out.ids).toEqual(['d1', 'p3', 'd3']);
  });
});
