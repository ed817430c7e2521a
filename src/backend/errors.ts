// Errors of backend selection: a backend that cannot start, with what to install or set.
import { CodedError } from '../errors/codedError.js';

export type BackendErrorCode =
  | 'BACKEND_UNAVAILABLE'
  | 'WEBGPU_NO_ADAPTER'
  | 'WEBGPU_SOFTWARE_ADAPTER_ONLY'
  | 'WEBGPU_GPU_INDEX'
  | 'WEBGPU_BAD_OPTION';

export class BackendUnavailableError extends CodedError<BackendErrorCode> {
  constructor(message: string, code: BackendErrorCode = 'BACKEND_UNAVAILABLE', cause?: unknown) {
    super(code, message, { cause });
  }
}
