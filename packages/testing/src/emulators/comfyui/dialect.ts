/**
 * The ComfyUI versions the emulator speaks, and what differs between them on the wire, as recorded
 * from the real servers (fixtures/v0.3.10.json, fixtures/v0.3.66.json).
 */
export const COMFYUI_VERSIONS = ['v0.3.10', 'v0.3.66'] as const;
export type ComfyUIVersion = (typeof COMFYUI_VERSIONS)[number];

export interface Dialect {
  /** What /system_stats reports: `git describe` of a checkout for old versions, the release number for current ones. */
  readonly reportedVersion: string;
  /** `POST /interrupt {prompt_id}` stops only that prompt (ComfyUI ≥ 0.3.57); older versions stop whatever runs. */
  readonly targetedInterrupt: boolean;
  /** `progress_state` messages around every node (the progress registry of ComfyUI ≥ 0.3.4x). */
  readonly progressState: boolean;
  /** Preview frames with a JSON metadata header (event 4) for clients that announce `supports_preview_metadata`. */
  readonly previewMetadata: boolean;
  /** `node_errors` of refusals found before input validation (unknown node, no outputs): `[]` or `{}`. */
  readonly earlyNodeErrors: readonly [] | Record<string, never>;
  /** The body of `POST /prompt` without a prompt. */
  readonly noPrompt: Record<string, unknown>;
  /** Node classes added after v0.3.10 that the emulator knows. */
  readonly newerNodes: boolean;
}

export const DIALECTS: Readonly<Record<ComfyUIVersion, Dialect>> = {
  'v0.3.10': {
    reportedVersion: 'v0.3.10',
    targetedInterrupt: false,
    progressState: false,
    previewMetadata: false,
    earlyNodeErrors: [],
    noPrompt: { error: 'no prompt', node_errors: [] },
    newerNodes: false,
  },
  'v0.3.66': {
    reportedVersion: '0.3.66',
    targetedInterrupt: true,
    progressState: true,
    previewMetadata: true,
    earlyNodeErrors: {},
    noPrompt: { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} },
    newerNodes: true,
  },
};
