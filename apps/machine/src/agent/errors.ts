import { ConveyorError } from '@conveyor/core';

export interface ConfigIssue {
  /** The environment variable at fault. */
  readonly variable: string;
  readonly message: string;
}

/** The machine's environment is unusable; every issue names its variable and how to fix it. */
export class ConfigError extends ConveyorError {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super('CONFIG_INVALID', `invalid machine configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
  }
}

/** One installer could not prepare its connector; the connector is left out unless MACHINE_STRICT=1. */
export class InstallerError extends ConveyorError {
  constructor(
    readonly connector: string,
    message: string,
    code = 'INSTALL_FAILED',
    options?: ErrorOptions,
  ) {
    super(code, `${connector}: ${message}`, options);
  }
}

/** A downloaded file's sha256 is not the one the config promised; the partial file is discarded. */
export class ChecksumMismatchError extends ConveyorError {
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('CHECKSUM_MISMATCH', `download of ${url} has sha256 ${actual}, expected ${expected}; the file was discarded`);
  }
}

/** An install step ran past its time limit (INSTALL_STEP_TIMEOUT_MS). */
export class StepTimeoutError extends ConveyorError {
  constructor(
    readonly step: string,
    readonly timeoutMs: number,
  ) {
    super('STEP_TIMEOUT', `install step "${step}" took longer than ${timeoutMs} ms (raise INSTALL_STEP_TIMEOUT_MS if it is just slow)`);
  }
}

/** PM2 refused or failed an operation. */
export class Pm2Error extends ConveyorError {
  constructor(message: string, options?: ErrorOptions) {
    super('PM2_FAILED', message, options);
  }
}

/** The machine cannot start: nothing to run, or a strict-mode installer failure. */
export class MachineStartError extends ConveyorError {
  constructor(message: string, code = 'MACHINE_START_FAILED', options?: ErrorOptions) {
    super(code, message, options);
  }
}

/** A runtime add or remove of a connector failed; the message says why (nothing is retried). */
export class ServiceChangeError extends ConveyorError {
  constructor(message: string, options?: ErrorOptions) {
    super('SERVICE_CHANGE_FAILED', message, options);
  }
}
