// The client over Electron IPC: preload already exposes exactly the typed functions.
import type { KvmdumpApi } from '../../../contract/client.ts';

export function createElectronClient(bridge: KvmdumpApi): KvmdumpApi {
  return bridge;
}
