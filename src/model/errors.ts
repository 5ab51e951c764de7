import { ZkaiError } from '../errors.ts';

/** A model that is malformed or that zkai cannot prove. */
export class ModelError extends ZkaiError {
  constructor(message: string, hint?: string) {
    super('BAD_MODEL', message, hint ? { hint } : undefined);
  }
}
