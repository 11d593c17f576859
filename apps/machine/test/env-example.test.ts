import { ArtifactEnv } from '@conveyor/core';
import { envExampleProblems, readEnvExample } from '@conveyor/local-stack';
import { describe, expect, it } from 'vitest';
import { AgentEnv } from '../src/agent/env.ts';
import { ComfyUISettings } from '../src/connectors/comfyui/index.ts';
import { OllamaSettings } from '../src/connectors/ollama/index.ts';
import { OpenAISettings } from '../src/connectors/openai/config.ts';
import { ReplicateSettings } from '../src/connectors/replicate/config.ts';
import { RunPodSettings } from '../src/connectors/runpod/index.ts';
import { WorkerEnv } from '../src/worker/env.ts';

describe('.env.example', () => {
  it.each([
    // The agent hands ARTIFACT_DIR to its workers, which read it through ArtifactEnv.
    ['apps/machine/src/agent/env.ts', [AgentEnv, ArtifactEnv]],
    ['apps/machine/src/worker/env.ts', [WorkerEnv]],
    ['packages/core/src/artifacts/from-env.ts', [ArtifactEnv]],
    ['apps/machine/src/connectors', [OpenAISettings, ReplicateSettings, OllamaSettings, ComfyUISettings, RunPodSettings]],
  ] as const)('lists every variable of %s with its default', async (section, schemas) => {
    expect(envExampleProblems(await readEnvExample(), section, schemas, ['MACHINE_ID'])).toEqual([]);
  });
});
