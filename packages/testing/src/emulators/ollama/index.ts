export { OLLAMA_EMULATOR_BREAK, startOllamaEmulator, type OllamaEmulator, type OllamaEmulatorOptions } from './server.ts';
