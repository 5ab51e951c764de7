/**
 * A policy's chunk partials: what a private chunk circuit commits to for each aggregate (in the order of the aggregate
 * table's entries), which its aggregation proofs open, combine over every chunk and judge (aggregation-gen.ts).
 */
import { uniqueKey } from '../data/unique.ts';
import { ZkaiError } from '../errors.ts';
import { aggregateDefinition, type PartialCombine, type PartialName, type TotalsRecord } from './aggregates.ts';
import { aggregateTotals, type Policy } from './policy.ts';

/** One public partial of a chunk circuit: which aggregate it belongs to, what it counts, how it combines over chunks. */
export interface ChunkPartial {
  aggregate: number;
  name: PartialName;
  combine: PartialCombine;
}

/** The partials a chunk circuit outputs, in order (after its subtree roots). */
export function chunkPartials(policy: Policy): ChunkPartial[] {
  return policy.aggregates.flatMap((aggregate, index) =>
    aggregateDefinition(aggregate.kind).partials.map(({ name, combine }) => ({ aggregate: index, name, combine })),
  );
}

/** Public signal name of an aggregate partial. */
export function partialSignalName(partial: Pick<ChunkPartial, 'aggregate' | 'name'>): string {
  return `aggregate${partial.aggregate}.${partial.name}`;
}

/**
 * The values of a policy's partials over one chunk's real records, in {@link chunkPartials} order: what its chunk
 * circuit computes (the summed ones from the pre-flight's totals, UNIQUE's keys of the first and last record).
 */
export function chunkPartialValues(policy: Policy, records: readonly TotalsRecord[]): bigint[] {
  if (records.length === 0) throw new ZkaiError('INTERNAL', 'a chunk holds at least one record');
  return policy.aggregates.flatMap((aggregate) => {
    if (aggregate.kind === 'UNIQUE') {
      const index = aggregate.column.index;
      const keyOf = (record: TotalsRecord) => uniqueKey(aggregate.column, record.values[index] as bigint);
      return [keyOf(records[0]!), keyOf(records[records.length - 1]!)];
    }
    // The summed kinds' totals are named like their partials (encodedSum, present, matched, nA...).
    const totals: Record<string, unknown> = aggregateTotals(aggregate, records);
    return aggregateDefinition(aggregate.kind).partials.map(({ name }) => {
      const value = totals[name];
      if (typeof value !== 'bigint') throw new ZkaiError('INTERNAL', `${aggregate.kind} totals have no ${name}`);
      return value;
    });
  });
}
