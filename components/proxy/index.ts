export {
  PROXY_PORTS,
  PROXY_SERVERS,
  CADDY_ADMIN_ADDRESS,
  CADDY_AUTOSAVE_PATH,
  CADDY_BOOTSTRAP_PATH,
  TK_PATHS,
  type ProxyRouting,
  type RoutedRelease,
} from './constants.js';
export {
  renderCaddyConfig,
  bootstrapCaddyConfig,
  caddyRunCommand,
  ROUTING_VARS,
  type CaddyConfig,
  type CaddyConfigInput,
  type CaddyServer,
  type CaddyRoute,
  type CaddyHandler,
} from './render-caddy-config.js';
export { readProxyState, readLiveSlot, parseProxyRouting, requireCaddyRunning, type ProxyState } from './read-proxy-state.js';
export { loadCaddyConfig, planLoadCaddyConfig, type LoadedConfig } from './load-caddy-config.js';
export { switchTraffic, stageSlot, loadRouting, type SwitchResult, type SwitchOptions } from './switch-traffic.js';
