import type { ConfigProblem } from './problems.js';

/** A validated value for one setting and where it came from. */
export interface LayerValue {
  value: unknown;
  source: string;
}

/** One source's settings (a file, the environment, the flags, the defaults), by dotted TOML key. */
export type Layer = Map<string, LayerValue>;

export interface SourceReading {
  layer: Layer;
  problems: ConfigProblem[];
}

/** Later layers override earlier ones, setting by setting. */
export function mergeLayers(layers: readonly Layer[]): Layer {
  const merged: Layer = new Map();
  for (const layer of layers) for (const [id, entry] of layer) merged.set(id, entry);
  return merged;
}
