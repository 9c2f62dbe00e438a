import { APP_SERVICES, type AppService, type Slot } from '../spec.js';

/** `<prefix>-<slot>-<service>`: also the DNS name Caddy dials on the stack's network. */
export function slotContainerName(prefix: string, slot: Slot, service: AppService): string {
  return `${prefix}-${slot}-${service}`;
}

export interface SlotContainer {
  service: AppService;
  name: string;
}

/** The containers of one slot, one per app service, in APP_SERVICES order. */
export function slotContainers(prefix: string, slot: Slot): SlotContainer[] {
  return APP_SERVICES.map((service) => ({ service, name: slotContainerName(prefix, slot, service) }));
}

/** Labels every slot container carries (`docker ps --filter label=tk.stack=<stack>`). */
export const SLOT_LABELS = {
  stack: 'tk.stack',
  slot: 'tk.slot',
  service: 'tk.service',
  release: 'tk.release',
  version: 'tk.version',
  commit: 'tk.commit',
  imageId: 'tk.image-id',
  /** The release plan the slot was started with (JSON), so a rollback needs nothing but the host. */
  plan: 'tk.plan',
  /** What slots of toolkit versions before versioned plans carried instead: their release spec. */
  legacySpec: 'tk.spec',
} as const;
