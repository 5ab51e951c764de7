/**
 * The consent fixtures shared by the chain tests: a schema whose subject id is the subject's account (an address
 * column) and a policy that every record's account consented on chain (tree depth 3). Shared so that the tests
 * compile and set up one circuit (cached) rather than one each.
 */
import { parsePolicy } from '../../src/policy/policy.ts';
import { parseSchema } from '../../src/data/schema.ts';

/** Subject id `id` (an account) and an age. */
export const CONSENT_TEST_SCHEMA = parseSchema({
  name: 'registry-test',
  subjectId: 'id',
  columns: [
    { name: 'id', type: 'address' },
    { name: 'age', type: 'integer', min: 0, max: 120 },
  ],
});

/** Adults, every record's account in the registry "consent" (depth 3). No UNIQUE: `chain register` would refuse it. */
export const CONSENT_TEST_POLICY = parsePolicy(
  {
    name: 'adults who consented',
    rules: [{ field: 'age', op: 'GTE', value: 18 }],
    registries: [{ kind: 'MEMBER-OF', field: 'id', registry: 'consent', depth: 3 }],
  },
  CONSENT_TEST_SCHEMA,
);
