export {
  PROXY_PORTS,
  PROXY_SERVERS,
  CADDY_ADMIN_ADDRESS,
  CADDY_AUTOSAVE_PATH,
  CADDY_BOOTSTRAP_PATH,
  ROUTING_DIR,
  TK_PATHS,
  type ProxyRouting,
  type RoutedRelease,
} from './constants.js';
export {
  renderCaddyConfig,
  bootstrapCaddyConfig,
  caddyRunCommand,
  type CaddyConfig,
  type CaddyConfigInput,
  type CaddyServer,
  type CaddyRoute,
  type CaddyHandler,
  type CaddyMatcherSet,
  type RoutingMarker,
} from './render-caddy-config.js';
export {
  readProxyState,
  releaseCaddyConfig,
  isToolkitConfig,
  sameCaddyConfig,
  requireCaddyRunning,
  type ProxyState,
} from './read-proxy-state.js';
export { applyRouting, parseRouting, planReadRouting, planRoutingChange, ROUTING_CHANGED_EXIT_CODE } from './routing.js';
export { loadCaddyConfig, ensureProxyConfig, planLoadCaddyConfig } from './load-caddy-config.js';
export { applyPublicTls, certificateNames, readLocalCaRoot, CADDY_LOCAL_ROOT_PATH, HSTS_HEADER, PUBLIC_REDIRECT_SERVER } from './public-tls.js';
export { switchTraffic, stageSlot, restoreRouting, type SwitchResult, type SwitchOptions } from './switch-traffic.js';
