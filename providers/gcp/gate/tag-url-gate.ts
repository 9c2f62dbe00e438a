import { endpointUrl, grpcHealthCheck, httpReadyzCheck, type HealthCheck } from '../../../components/health-gate/checks.js';
import type { AppService, ReleasePlan, Slot } from '../../../components/release/plan.js';
import type { CheckSet, GatePort } from '../../../components/release/ports.js';
import { serviceName, type CloudRunStack } from '../run/stack.js';

/**
 * The health gate on Cloud Run: each service's revision is probed at its slot tag's own URL
 * (`https://<slot>---<service>-<hash>.run.app`, read from the service's traffic statuses), the
 * web UI's /readyz (which must report the release) and the sensor API's gRPC health (Cloud Run
 * exposes one port per service: the sensor API's is its gRPC port, over HTTP/2 end to end). The
 * URL is looked up at every probe: the gate opens while the slot starts, before the tag exists.
 * After a switch, the public endpoints (the services' URLs or the custom domain) are probed the
 * same way.
 */
export function tagUrlGate(stack: CloudRunStack): GatePort {
  const tagUrl = async (service: AppService, slot: Slot): Promise<string | undefined> => {
    const [found] = await stack.clients.services.getService({ name: serviceName(stack, service) });
    return (found.trafficStatuses ?? []).find((status) => status.tag === slot && status.uri)?.uri ?? undefined;
  };
  return {
    async staging(plan, slot) {
      return checkSet([
        lazyCheck(`${slot} tag URL of ${stack.target.services['web-ui']} /readyz`, () => tagUrl('web-ui', slot), (url) => httpReadyzCheck('web-ui /readyz', endpointUrl(url, '/readyz'), plan.image.releaseId, tlsFor(url))),
        lazyCheck(`${slot} tag URL of ${stack.target.services['sensor-api']} gRPC health`, () => tagUrl('sensor-api', slot), (url) => grpcHealthCheck('sensor-api gRPC health', grpcAddress(url), '', tlsFor(url))),
      ]);
    },
    async public(plan: ReleasePlan) {
      const web = plan.endpoints.publicHttpUrl;
      const grpcTls = web.startsWith('https:') ? { serverName: plan.endpoints.publicGrpcAddress.replace(/:\d+$/, '') } : undefined;
      return checkSet([
        httpReadyzCheck('public web-ui /readyz', endpointUrl(web, '/readyz'), plan.image.releaseId, tlsFor(web)),
        grpcHealthCheck('public sensor-api gRPC health', plan.endpoints.publicGrpcAddress, '', grpcTls),
      ]);
    },
    diagnose(subject) {
      const region = `--region ${stack.target.region}`;
      if (subject === 'router') {
        return `gcloud run services describe ${stack.target.services['web-ui']} ${region} (traffic and its URLs); a custom domain's mapping: gcloud beta run domain-mappings list ${region}`;
      }
      return (
        `gcloud run services describe ${stack.target.services['web-ui']} ${region} (the ${subject} tag's revision and URL), ` +
        `then gcloud logging read 'resource.type="cloud_run_revision" AND resource.labels.service_name="${stack.target.services['web-ui']}"' --limit 50`
      );
    },
  };
}

function tlsFor(url: string): { serverName: string } | undefined {
  return url.startsWith('https:') ? { serverName: new URL(url).hostname } : undefined;
}

function grpcAddress(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || (parsed.protocol === 'https:' ? '443' : '80')}`;
}

/** A check whose endpoint is looked up at each run (undefined: not routed yet, a failure). */
function lazyCheck(name: string, resolve: () => Promise<string | undefined>, make: (url: string) => HealthCheck): HealthCheck {
  const made = new Map<string, HealthCheck>();
  return {
    name,
    async run(timeoutMs) {
      let url: string | undefined;
      try {
        url = await resolve();
      } catch (error) {
        return { ok: false, detail: `cannot read the tag URL: ${(error as Error).message}` };
      }
      if (!url) return { ok: false, detail: 'no URL for the tag yet (the revision is starting or not tagged)' };
      if (!made.has(url)) made.set(url, make(url));
      const outcome = await made.get(url)!.run(timeoutMs);
      return { ...outcome, detail: `${outcome.detail} at ${url}` };
    },
    close() {
      for (const check of made.values()) check.close();
    },
  };
}

function checkSet(checks: HealthCheck[]): CheckSet {
  return {
    checks,
    async close() {
      for (const check of checks) check.close();
    },
  };
}
