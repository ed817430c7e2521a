// KernelError: a kernel we register was given what it cannot compute, or could not start.
import { CodedError } from '../errors/codedError.js';

export type KernelErrorCode =
  /** An input's dtype, shape or attribute is outside what the kernel computes. */
  | 'KERNEL_INPUT'
  /** The kernel needs something that is not there (the SIMD module, a stock kernel, memory). */
  | 'KERNEL_UNAVAILABLE'
  /** A setting that chooses kernels (DSDC_WASM_KERNELS) has a value outside its choices. */
  | 'KERNEL_BAD_SETTING';

export class KernelError extends CodedError<KernelErrorCode> {}
