import { describeReleaseBackendContract } from '../../../components/release/backend-contract.js';
import { startAwsTestBed } from '../data-plane/test-bed.js';

// The AWS backend against moto (DynamoDB, ELBv2, ECS, S3, ECR, Secrets Manager, CloudWatch Logs),
// its one-off tasks run on the local Docker engine against PostgreSQL (test/aws/ecs-tasks-on-docker.ts),
// and a data plane stand-in beside moto (test/aws/data-plane/): the slots' ECS services run their
// tasks on Docker, registered in their target groups and health-checked, and the load balancer's
// listeners are TLS proxies on 127.0.0.1 that route by the listeners' actions in moto. The gate's
// probes and the public verification go through those listeners, by the plan's domain (127.0.0.1)
// and listener ports, trusting the stand-in's certificate.
describeReleaseBackendContract('AWS (moto)', async () => {
  const bed = await startAwsTestBed({ database: `tk_aws_contract_${process.pid}` });
  const plan = bed.plan('00000001');
  const otherPlan = bed.plan('00000002', { appEnv: { TK_LOG_LEVEL: 'debug' } });
  return {
    backend: bed.backend(plan),
    plan,
    otherPlan,
    secrets: {},
    secondBackend: () => bed.backend(plan, bed.clientsFor()),
    async tearDown() {
      const errors = [...bed.dataPlane.services.errors];
      await bed.tearDown();
      if (errors.length > 0) throw new Error(`the ECS stand-in failed: ${errors.join('; ')}`);
    },
  };
});
