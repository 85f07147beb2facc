import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { OperationsError, type OperationsErrorCode } from '@idm/operations';

const STATUS: Record<OperationsErrorCode, number> = {
  IDM_OPS_NOT_FOUND: HttpStatus.NOT_FOUND,
  IDM_OPS_UNREACHABLE: HttpStatus.SERVICE_UNAVAILABLE,
  IDM_OPS_REFUSED: HttpStatus.CONFLICT,
  IDM_OPS_USAGE: HttpStatus.BAD_REQUEST,
};

/** An {@link OperationsError} as a JSON error with a fitting status and its stable code. */
@Catch(OperationsError)
export class OperationsErrorFilter implements ExceptionFilter<OperationsError> {
  catch(error: OperationsError, host: ArgumentsHost): void {
    const status = STATUS[error.code];
    host
      .switchToHttp()
      .getResponse<{ status(code: number): { json(body: unknown): void } }>()
      .status(status)
      .json({ statusCode: status, code: error.code, message: error.message });
  }
}
