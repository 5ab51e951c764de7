/**
 * The circom a policy adds to a dataset circuit (src/data/circuit-gen.ts writes the rest: inputs, leaves, the tree,
 * registry checks): in the record template, every rule and each aggregate's per-record outputs; in the main
 * template, each aggregate's check over all records, or its partials in a chunk circuit.
 */
import type { CircomLines } from '../circuit/generated-source.ts';
import type { Column } from '../data/types.ts';
import { ZkaiError } from '../errors.ts';
import { aggregateDefinition, type PartialName } from './aggregates.ts';
import { chunkPartials } from './chunks.ts';
import { bitLength, PredicateSignals, RECORD_OUTPUT } from './emit.ts';
import type { Policy } from './policy.ts';

/** Emit an empty line and an aggregate's comment; returns where they start. */
function commentAggregate(out: CircomLines, text: string, index: number): number {
  const start = out.lines.length;
  out.line();
  out.comment(`aggregate ${index}: ${text}`);
  return start;
}

/** Remove the comment of an aggregate that emitted nothing after it (COUNT in a record, or in a chunk circuit). */
function dropIfEmpty(out: CircomLines, start: number): void {
  if (out.lines.length === start + 2) out.lines.splice(start);
}

/**
 * Emit the policy's part of its record template, whose `active`, `values`, `isNull` and `notNull` are the record's:
 * each rule, enforced when the record is real (and its `when` holds), then each aggregate's per-record outputs.
 * `sortKey` gives a column's sort key expression (shared with the registry checks).
 */
export function emitRecordPolicy(out: CircomLines, policy: Policy, sortKey: (column: Column) => string): void {
  const predicates = new PredicateSignals(out);
  for (const rule of policy.rules) {
    out.line();
    out.comment(`rule ${rule.index}: ${rule.text}`);
    const sat = predicates.holds(rule.predicate, `rule${rule.index}`);
    let applies = 'active';
    if (rule.when) {
      const when = predicates.holds(rule.when, `rule${rule.index}When`);
      applies = `rule${rule.index}Applies`;
      out.line(`signal ${applies} <== active * ${when};`);
    }
    out.line(`${applies} * (1 - ${sat}) === 0;`);
  }
  const termsOf = new Set<number>();
  const keysOf = new Set<number>();
  policy.aggregates.forEach((aggregate, index) => {
    const start = commentAggregate(out, aggregate.text, index);
    aggregateDefinition(aggregate.kind).emitRecord(aggregate, {
      out,
      label: `aggregate${index}`,
      holds: (predicate, name) => predicates.holds(predicate, name),
      columnTerms(column) {
        if (termsOf.has(column.index)) return;
        termsOf.add(column.index);
        const present = RECORD_OUTPUT.present(column.index);
        out.line(`signal output ${present} <== active * notNull[${column.index}]; // real and ${column.name} not null`);
        out.line(`signal output ${RECORD_OUTPUT.term(column.index)} <== ${present} * values[${column.index}];`);
      },
      sortKey(column) {
        if (keysOf.has(column.index)) return;
        keysOf.add(column.index);
        out.line(
          `signal output ${RECORD_OUTPUT.key(column.index)} <== ${sortKey(column)}; // ${column.name}'s sort key`,
        );
      },
    });
    dropIfEmpty(out, start);
  });
}

/**
 * Emit, in the main template, each aggregate's part over the records (`records[i]` are the record templates, `count`
 * and `active` the main template's), then its check on the totals, or in a chunk circuit its partials into the array
 * `partials` (in {@link chunkPartials} order).
 */
export function emitAggregates(out: CircomLines, policy: Policy, shape: { capacity: number; chunk: boolean }): void {
  const partials = shape.chunk ? chunkPartials(policy) : [];
  const capacityBits = bitLength(BigInt(shape.capacity - 1)) || 1;
  policy.aggregates.forEach((aggregate, index) => {
    const start = commentAggregate(out, aggregate.text, index);
    const label = `aggregate${index}`;
    const definition = aggregateDefinition(aggregate.kind);
    const expressions = definition.emitOverRecords(aggregate, {
      out,
      label,
      capacity: shape.capacity,
      chunk: shape.chunk,
      total(name, output) {
        out.line(`var ${name} = 0; for (var i = 0; i < ${shape.capacity}; i++) { ${name} += records[i].${output}; }`);
        return name;
      },
    });
    const total = (name: PartialName): string => {
      const expression = expressions[name];
      if (expression === undefined) throw new ZkaiError('INTERNAL', `aggregate ${index} has no total ${name}`);
      return expression;
    };
    if (shape.chunk) {
      for (const partial of definition.partials) {
        const position = partials.findIndex((p) => p.aggregate === index && p.name === partial.name);
        out.line(`partials[${position}] <== ${total(partial.name)};`);
      }
    } else {
      definition.emitVerdict(aggregate, { out, label, capacityBits, countBits: capacityBits + 2, total });
    }
    dropIfEmpty(out, start);
  });
}
