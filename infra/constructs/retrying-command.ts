/**
 * The shell loop both deploy-time commands use (the cleanup package deploy, the wait for the
 * deployer's data-plane role): a new role assignment can take minutes to apply, so a command that
 * depends on one is tried again, a fixed pause apart, and the apply fails only when it never
 * succeeds. Values reach the command through the environment (local-exec `environment`), so
 * nothing here needs shell quoting.
 */
export interface RetryingCommandOptions {
  /** One POSIX shell command; success is exit status 0. */
  command: string;
  /** What is being attempted, for the message after a failed try ("uploading …"). */
  what: string;
  attempts: number;
  pauseSeconds: number;
}

export function retryingCommand(options: RetryingCommandOptions): string {
  const { attempts, pauseSeconds } = options;
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`retryingCommand: attempts ${attempts}; expected a positive integer`);
  if (!Number.isInteger(pauseSeconds) || pauseSeconds < 0) throw new Error(`retryingCommand: pauseSeconds ${pauseSeconds}; expected a whole number of seconds`);
  if (/["\\]/.test(options.what)) throw new Error('retryingCommand: what must not contain double quotes or backslashes');
  return [
    `attempt=1; while [ "$attempt" -le ${attempts} ]; do`,
    `${options.command} && exit 0;`,
    `echo "${options.what} failed (attempt $attempt of ${attempts}; new role assignments can take minutes to apply)" >&2;`,
    `attempt=$((attempt + 1)); [ "$attempt" -le ${attempts} ] && sleep ${pauseSeconds};`,
    'done; exit 1',
  ].join(' ');
}
