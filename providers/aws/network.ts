import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { APP_PORTS } from '../../components/release/plan.js';
import type { AwsSection } from './config.js';
import { DEFAULT_AWS_VPC_CIDR } from './config.js';

/** PostgreSQL's port on RDS. */
export const POSTGRES_PORT = 5432;
/** Availability zones the stack spreads over: the load balancer needs two, and so does RDS's subnet group. */
export const AZ_COUNT = 2;

export interface SubnetPlan {
  public: [string, string];
  private: [string, string];
}

/**
 * The four subnets of a new VPC: its CIDR cut in quarters, public ones (the load balancer and NAT
 * gateways) first, then private ones (tasks and database), one of each per availability zone.
 */
export function planSubnets(vpcCidr: string): SubnetPlan {
  const [address, prefixText] = vpcCidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const base = address.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix - 2);
  const quarter = (i: number) => {
    const start = base + i * size;
    return `${[24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256).join('.')}/${prefix + 2}`;
  };
  return { public: [quarter(0), quarter(1)], private: [quarter(2), quarter(3)] };
}

export interface AwsNetworkArgs {
  prefix: string;
  vpc: AwsSection['vpc'];
  /** Ports of the public listeners (open to everyone) and of the test listeners (open to `gateSourceCidrs`). */
  publicPorts: number[];
  stagingPorts: number[];
  gateSourceCidrs: string[];
}

/**
 * The stack's network: a new VPC with a public and a private subnet in each of two availability
 * zones (an internet gateway for the public ones, a NAT gateway per zone for the private ones), or
 * an existing VPC's subnets; and three security groups that say who reaches whom. Only the load
 * balancer reaches the tasks, on the app's ports; only the tasks reach the database.
 */
export class AwsNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly publicSubnetIds: pulumi.Output<string[]>;
  readonly privateSubnetIds: pulumi.Output<string[]>;
  readonly loadBalancerSecurityGroup: aws.ec2.SecurityGroup;
  readonly taskSecurityGroup: aws.ec2.SecurityGroup;
  readonly databaseSecurityGroup: aws.ec2.SecurityGroup;

  constructor(name: string, args: AwsNetworkArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('trapperkeeper:aws:Network', name, {}, opts);
    const parent = { parent: this };

    if (args.vpc.id !== undefined) {
      this.vpcId = pulumi.output(args.vpc.id);
      this.publicSubnetIds = pulumi.output(args.vpc.publicSubnetIds ?? []);
      this.privateSubnetIds = pulumi.output(args.vpc.privateSubnetIds ?? []);
    } else {
      const created = this.createVpc(name, args.prefix, args.vpc.cidr ?? DEFAULT_AWS_VPC_CIDR);
      this.vpcId = created.vpcId;
      this.publicSubnetIds = created.publicSubnetIds;
      this.privateSubnetIds = created.privateSubnetIds;
    }

    const group = (role: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${role}`, { vpcId: this.vpcId, name: `${args.prefix}-${role}`, description, tags: { Name: `${args.prefix}-${role}` } }, parent);
    this.loadBalancerSecurityGroup = group('alb', 'TrapperKeeper load balancer: the public listeners, and the test listeners for the release runner');
    this.taskSecurityGroup = group('tasks', 'TrapperKeeper tasks: reached only from the load balancer');
    this.databaseSecurityGroup = group('db', 'TrapperKeeper database: reached only from the tasks');
    this.createRules(name, args);

    this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }

  private createVpc(name: string, prefix: string, cidr: string) {
    const parent = { parent: this };
    const subnets = planSubnets(cidr);
    const zones = aws.getAvailabilityZonesOutput({ state: 'available' }, parent).names.apply((names) => {
      if (names.length < AZ_COUNT) throw new Error(`the region has ${names.length} available zone(s); the stack needs ${AZ_COUNT}`);
      return names.slice(0, AZ_COUNT);
    });
    const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: prefix } }, parent);
    const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: prefix } }, parent);
    const publicRoutes = new aws.ec2.RouteTable(`${name}-public`, { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }], tags: { Name: `${prefix}-public` } }, parent);
    const publicSubnets: aws.ec2.Subnet[] = [];
    const privateSubnets: aws.ec2.Subnet[] = [];
    for (let i = 0; i < AZ_COUNT; i++) {
      const zone = zones.apply((names) => names[i] as string);
      const publicSubnet = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        { vpcId: vpc.id, cidrBlock: subnets.public[i] as string, availabilityZone: zone, mapPublicIpOnLaunch: false, tags: { Name: `${prefix}-public-${i}` } },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: publicSubnet.id, routeTableId: publicRoutes.id }, parent);
      // One NAT gateway per zone: tasks in one zone keep pulling images and reading secrets when the other zone fails.
      const address = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: 'vpc', tags: { Name: `${prefix}-nat-${i}` } }, parent);
      const nat = new aws.ec2.NatGateway(`${name}-nat-${i}`, { subnetId: publicSubnet.id, allocationId: address.id, tags: { Name: `${prefix}-nat-${i}` } }, { parent: this, dependsOn: [gateway] });
      const privateRoutes = new aws.ec2.RouteTable(`${name}-private-${i}`, { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }], tags: { Name: `${prefix}-private-${i}` } }, parent);
      const privateSubnet = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        { vpcId: vpc.id, cidrBlock: subnets.private[i] as string, availabilityZone: zone, tags: { Name: `${prefix}-private-${i}` } },
        parent,
      );
      new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: privateSubnet.id, routeTableId: privateRoutes.id }, parent);
      publicSubnets.push(publicSubnet);
      privateSubnets.push(privateSubnet);
    }
    return { vpcId: vpc.id, publicSubnetIds: pulumi.all(publicSubnets.map((s) => s.id)), privateSubnetIds: pulumi.all(privateSubnets.map((s) => s.id)) };
  }

  private createRules(name: string, args: AwsNetworkArgs) {
    const parent = { parent: this };
    const alb = this.loadBalancerSecurityGroup.id;
    const tasks = this.taskSecurityGroup.id;
    const db = this.databaseSecurityGroup.id;
    for (const port of args.publicPorts) {
      for (const [family, cidr] of [['ipv4', '0.0.0.0/0'], ['ipv6', '::/0']] as const) {
        new aws.vpc.SecurityGroupIngressRule(
          `${name}-alb-in-${port}-${family}`,
          { securityGroupId: alb, ipProtocol: 'tcp', fromPort: port, toPort: port, ...(family === 'ipv4' ? { cidrIpv4: cidr } : { cidrIpv6: cidr }), description: 'public listener' },
          parent,
        );
      }
    }
    args.gateSourceCidrs.forEach((cidr, i) => {
      for (const port of args.stagingPorts) {
        new aws.vpc.SecurityGroupIngressRule(`${name}-alb-in-${port}-gate-${i}`, { securityGroupId: alb, ipProtocol: 'tcp', fromPort: port, toPort: port, cidrIpv4: cidr, description: 'test listener, for the health gate' }, parent);
      }
    });
    for (const port of [APP_PORTS.webUi, APP_PORTS.sensorApiGrpc]) {
      new aws.vpc.SecurityGroupEgressRule(`${name}-alb-out-${port}`, { securityGroupId: alb, ipProtocol: 'tcp', fromPort: port, toPort: port, referencedSecurityGroupId: tasks, description: 'to the tasks' }, parent);
      new aws.vpc.SecurityGroupIngressRule(`${name}-tasks-in-${port}`, { securityGroupId: tasks, ipProtocol: 'tcp', fromPort: port, toPort: port, referencedSecurityGroupId: alb, description: 'from the load balancer only' }, parent);
    }
    // Tasks reach the database, and over HTTPS ECR, Secrets Manager and CloudWatch Logs (through the NAT gateways).
    new aws.vpc.SecurityGroupEgressRule(`${name}-tasks-out-db`, { securityGroupId: tasks, ipProtocol: 'tcp', fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedSecurityGroupId: db, description: 'to the database' }, parent);
    new aws.vpc.SecurityGroupEgressRule(`${name}-tasks-out-https`, { securityGroupId: tasks, ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0', description: 'AWS APIs: ECR, Secrets Manager, CloudWatch Logs' }, parent);
    new aws.vpc.SecurityGroupIngressRule(`${name}-db-in`, { securityGroupId: db, ipProtocol: 'tcp', fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedSecurityGroupId: tasks, description: 'from the tasks only' }, parent);
  }
}
