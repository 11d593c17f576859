export { OpenAIEmulator, type OpenAIEmulatorOptions, type RecordedRequest as OpenAIRecordedRequest } from './server.ts';
export type { ChatMessage, ReplyFn } from './chat.ts';
