/**
 * Every error answer of the service has one shape ({@link errorSchema}): the status, a stable code, a sentence, and
 * for a refused request the fields at fault. Validation errors (ajv), fastify's own 4xx (malformed JSON, body too
 * large, wrong media type) and {@link ServiceError}s keep their status; anything else is a 500 that is logged.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError, type FieldProblem } from '../errors.ts';
import { FORMAT_MESSAGES } from './field-formats.ts';

/** Most field problems an answer lists. */
const MAX_FIELDS = 20;

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** The JSON pointer and a sentence for one ajv error. */
export function fieldProblem(error: AjvError, location: string): FieldProblem {
  let path = error.instancePath;
  let message = error.message ?? 'is not valid';
  if (error.keyword === 'required') {
    path = `${path}/${String(error.params.missingProperty)}`;
    message = 'is required';
  } else if (error.keyword === 'additionalProperties') {
    path = `${path}/${String(error.params.additionalProperty)}`;
    message = 'is not a known field';
  } else if (error.keyword === 'format' && FORMAT_MESSAGES[String(error.params.format)]) {
    message = FORMAT_MESSAGES[String(error.params.format)] as string;
  } else if (error.keyword === 'enum') {
    message = `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (error.keyword === 'propertyNames') {
    path = `${path}/${String(error.params.propertyName)}`;
    message = 'is not a valid name (letters, digits, _ and ., at most 200)';
  }
  return { path, message, in: location };
}

/** The error body. */
export function errorBody(
  statusCode: number,
  code: string,
  message: string,
  extra: { hint?: string; fields?: FieldProblem[] } = {},
) {
  return {
    statusCode,
    code,
    message,
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.fields && extra.fields.length > 0 ? { fields: extra.fields } : {}),
  };
}

/** fastify's error handler for the service. */
export function handleError(
  error: FastifyError | ServiceError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const fastifyError = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fastifyError.validation) {
    const location = fastifyError.validationContext ?? 'body';
    // allErrors is on, so a body can have many problems: name the first few.
    const fields = fastifyError.validation.slice(0, MAX_FIELDS).map((e) => fieldProblem(e, location));
    const list = fields.map((f) => `${location}${f.path} ${f.message}`).join('; ');
    return reply.code(400).send(errorBody(400, 'BAD_REQUEST', `the request is not valid: ${list}`, { fields }));
  }
  if (error instanceof ServiceError) {
    if (error.statusCode >= 500) request.log.warn({ code: error.code }, error.message);
    if (error.statusCode === 503) void reply.header('retry-after', '1');
    return reply.code(error.statusCode).send(
      errorBody(error.statusCode, error.code, error.message, {
        ...(error.hint ? { hint: error.hint } : {}),
        fields: error.fields,
      }),
    );
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code =
      fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'BODY_TOO_LARGE'
        : fastifyError.code?.startsWith('FST_ERR_CTP_INVALID_MEDIA_TYPE')
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : status === 400
            ? 'BAD_REQUEST'
            : (fastifyError.code ?? 'BAD_REQUEST');
    const message =
      error instanceof SyntaxError || fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
        ? `the body is not valid JSON: ${error.message}`
        : error.message;
    return reply.code(status).send(errorBody(status, code, message));
  }
  request.log.error({ err: error }, 'internal error');
  return reply
    .code(500)
    .send(errorBody(500, 'INTERNAL', 'the service failed to answer this request; the error is in its log'));
}
