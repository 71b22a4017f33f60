import { AisflowError, ErrorCodes, isAisflowError, type ErrorCode } from '../shared/errors.js';

/** An error the API answers with `{ code, message, details? }` and the status its code maps to. */
export class ApiError extends AisflowError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/**
 * HTTP status per code. Codes outside the table (store, NATS, internal) are server-side
 * failures: 503 when retrying later can help, else 500.
 */
const statusByCode: Partial<Record<ErrorCode, number>> = {
  AISFLOW_ERR_API_BAD_REQUEST: 400,
  AISFLOW_ERR_API_INVALID_MMSI: 400,
  AISFLOW_ERR_API_INVALID_BBOX: 400,
  AISFLOW_ERR_API_INVALID_RANGE: 400,
  AISFLOW_ERR_API_CONFIRMATION_REQUIRED: 400,
  AISFLOW_ERR_API_UNAUTHORIZED: 401,
  AISFLOW_ERR_API_FORBIDDEN: 403,
  AISFLOW_ERR_API_NOT_FOUND: 404,
  // A disabled route is, to the caller, a route that does not exist here.
  AISFLOW_ERR_API_DISABLED: 404,
  AISFLOW_ERR_API_UNAVAILABLE: 503,
  AISFLOW_ERR_API_TOO_MANY_CLIENTS: 503,
  AISFLOW_ERR_STORE_RETRYABLE: 503,
  AISFLOW_ERR_NATS_PUBLISH: 503,
};

export function statusOf(code: ErrorCode): number {
  return statusByCode[code] ?? 500;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * The catalogue code an error carries: an AisflowError's, or a `code` property naming a catalogue
 * entry (errors of other modules that cannot extend AisflowError, e.g. the store's
 * `InvalidCursorError extends RangeError`). Anything else has none.
 */
export function errorCodeOf(err: unknown): ErrorCode | null {
  if (isAisflowError(err)) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(ErrorCodes, code) ? (code as ErrorCode) : null;
}
