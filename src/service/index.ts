/** The HTTP verification service (`zkai serve`) and its parts, for integrators who embed it. */
export { createVerificationServer, DEFAULT_PUBLIC_DIR, type VerificationServerOptions } from './server.ts';
export { CircuitCatalog, summarize, type CatalogEntry, type CatalogSources, type CircuitSummary } from './catalog.ts';
export { VerifierPool, type VerifierPoolOptions } from './verifier-pool.ts';
export { AttestationSource, type AttestationView, type ChainSourceOptions } from './attestations.ts';
export { verifyRequest, type VerifyResponse, type ProofVerdict, type VerifyContext } from './verification.ts';
export { interpretBody, type VerifyBody } from './proof-files.ts';
export {
  decodeClaims,
  describeSignals,
  kindFromSignalNames,
  signalMeaning,
  SERVICE_CIRCUIT_KINDS,
  type Claims,
  type ServiceCircuitKind,
} from './signals.ts';
export { buildOpenApiDocument, OPENAPI_FILE } from './openapi.ts';
