/** The deployment targets, by the name the stack config's `provider` and a plan's `target.kind` give them. */
export const PROVIDERS = ['docker', 'gcp', 'aws'] as const;
export type ProviderName = (typeof PROVIDERS)[number];
