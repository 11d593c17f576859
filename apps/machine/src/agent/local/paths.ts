import { join } from 'node:path';
import { localPaths, type LocalPaths } from '@conveyor/local-stack';

/** The checkout's local-mode paths (CONVEYOR_DATA_DIR in `env`, else <root>/.conveyor). */
export function machineLocalPaths(root: string, env: NodeJS.ProcessEnv): LocalPaths {
  return localPaths(root, env.CONVEYOR_DATA_DIR || undefined);
}

/**
 * The background agent's environment: its installs under <data dir>/machine and the checkout's one
 * state and artifact directories, passed explicitly so the agent agrees with the API wherever it runs.
 */
export function localEnv(paths: LocalPaths, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    CONVEYOR_DATA_DIR: paths.stateDir,
    MACHINE_INSTALL_DIR: env.MACHINE_INSTALL_DIR || join(paths.stateDir, 'machine'),
    ARTIFACT_DIR: env.ARTIFACT_DIR || paths.artifactDir,
  };
}
